/**
 * Leaving local mode: the planner's local-mode exit plan (planner/local-mode-exit.ts: the local apps'
 * containers, networks and the images their services named; volumes stay) is run by the executor as a
 * one-off plan in the reconciler's loop, then the local target is forgotten. The cloud target, which
 * the reconciler applies next, stays.
 *
 * Idempotent: the local target is forgotten only when every container and network went, so a failure
 * (or a crash half way) repeats the clean-up on the next start. An image still used by something else
 * (another app, a user's container) is kept: not ours to force away.
 */
import type { StepOutcome } from '../executor/execute-plan.js';
import { planLocalModeExit } from '../planner/index.js';
import type { Logger } from '../shared/logger.js';
import type { StoredTarget, TargetOrigin } from '../store/ports.js';
import type { BuildPlan } from './one-off-plans.js';

export interface LocalModeExitDeps {
  /** The reconciler's one-off plans (Reconciler.runPlan). */
  runPlan: (build: BuildPlan, options: { dropTarget: boolean }) => Promise<StepOutcome[]>;
  targets: {
    load(origin: TargetOrigin): Promise<StoredTarget | undefined>;
    clear(origin: TargetOrigin): Promise<void>;
  };
  logger: Logger;
}

export interface LocalModeExitResult {
  containers: string[];
  networks: string[];
  images: string[];
}

const LOCAL: TargetOrigin = { kind: 'local' };

export async function leaveLocalMode(deps: LocalModeExitDeps): Promise<LocalModeExitResult> {
  const result: LocalModeExitResult = { containers: [], networks: [], images: [] };
  const local = await deps.targets.load(LOCAL);
  if (local === undefined) return result;
  const log = deps.logger.child({ component: 'local-mode-exit' });
  const exit = { apps: Object.keys(local.apps), images: serviceImages(local) };
  const names = new Map<string, string>();
  const outcomes = await deps.runPlan(
    (current) => {
      for (const c of current.containers) names.set(c.id, c.name);
      return planLocalModeExit(exit, current);
    },
    { dropTarget: true },
  );
  let failures = 0;
  for (const { step, status, error } of outcomes) {
    const ok = status === 'ok';
    if (step.kind === 'removeImage') {
      if (ok) result.images.push(step.image);
      else log.warn('local-mode.image-kept', { image: step.image, err: error });
      continue;
    }
    if (!ok) {
      failures++;
      log.warn('local-mode.exit-failed', { step: step.id, err: error });
    } else if (step.kind === 'discardContainer')
      result.containers.push(names.get(step.containerId) ?? step.containerId);
    else if (step.kind === 'removeNetwork') result.networks.push(step.engineName);
  }
  if (failures > 0) {
    // Keep the local target so the next start tries again rather than orphaning what is left.
    log.warn('local-mode.exit-incomplete', { failures, ...result });
    return result;
  }
  await deps.targets.clear(LOCAL);
  log.info('local-mode.left', { ...result });
  return result;
}

/** Image references named by the stored (raw v3) local target's services. */
function serviceImages(target: StoredTarget): string[] {
  const images = new Set<string>();
  for (const app of Object.values(target.apps)) {
    const releases = (app as { releases?: unknown }).releases;
    if (typeof releases !== 'object' || releases === null) continue;
    for (const release of Object.values(releases)) {
      const services = (release as { services?: unknown } | null)?.services;
      if (typeof services !== 'object' || services === null) continue;
      for (const service of Object.values(services)) {
        const image = (service as { image?: unknown } | null)?.image;
        if (typeof image === 'string' && image !== '') images.add(image);
      }
    }
  }
  return [...images];
}
