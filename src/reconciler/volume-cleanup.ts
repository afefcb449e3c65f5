/**
 * `/v2/cleanup-volumes` through a one-off plan: the planner picks the unused volumes bosun manages
 * (planner/volume-cleanup.ts) and the executor removes them. Mounts are read from every container on
 * the engine, the agent's or not, just before planning.
 */
import type { TargetState } from '../domain/model.js';
import type { EngineAdapter } from '../engine/port.js';
import type { StepOutcome } from '../executor/execute-plan.js';
import { planVolumeCleanup } from '../planner/index.js';
import type { Logger } from '../shared/logger.js';
import type { BuildPlan } from './one-off-plans.js';

export interface VolumeCleanupDeps {
  engine: Pick<EngineAdapter, 'listContainers'>;
  runPlan: (build: BuildPlan) => Promise<StepOutcome[]>;
  target: () => TargetState | undefined;
  log: Logger;
}

/** Removes unused managed volumes (of one app, or all); rejects with the first removal's error. */
export async function cleanupVolumes(
  deps: VolumeCleanupDeps,
  appId: number | undefined,
): Promise<{ removed: string[] }> {
  const outcomes = await deps.runPlan(async (current) => {
    const containers = await deps.engine.listContainers();
    const mounted = new Set(
      containers.flatMap((c) => c.mounts.flatMap((m) => (m.name === undefined ? [] : [m.name]))),
    );
    return planVolumeCleanup({ appId, mounted }, deps.target(), current);
  });
  const removed = outcomes.flatMap((o) =>
    o.status === 'ok' && o.step.kind === 'removeVolume' ? [o.step.engineName] : [],
  );
  deps.log.info('reconciler.volumes-cleaned', { removed });
  const failed = outcomes.find((o) => o.status !== 'ok');
  if (failed?.error !== undefined) throw failed.error;
  return { removed };
}
