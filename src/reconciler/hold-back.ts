/**
 * Holds back steps that must not run this round, turning them into blockers: steps whose key (step id,
 * `<appUuid>/<service>`, or `<appUuid>`) is backing off, `takeLock` steps still facing the same user
 * lock that refused them, and everything depending on a held-back step. The planner is given the same
 * backoffs and normally leaves such steps out itself; this is the reconciler's guarantee that a failing
 * step can never make the loop spin, whatever the planner does.
 */
import type { BackoffEntry } from '../shared/backoff.js';
import type { Blocker, Plan, Step } from '../planner/steps.js';

export interface HoldBackInputs {
  backoffs: ReadonlyMap<string, BackoffEntry>;
  /** takeLock step id → user-lock signature it failed against; held back while the signature holds. */
  lockWaits: ReadonlyMap<string, string>;
  /** Current user-lock signature per appId. */
  lockSignature: (appId: number) => string;
}

export function serviceOf(step: Step): string | undefined {
  return 'serviceName' in step
    ? step.serviceName
    : step.kind === 'createContainer'
      ? step.service.serviceName
      : undefined;
}

export function holdBack(plan: Plan, inputs: HoldBackInputs): Plan {
  const held = new Map<string, Blocker>();
  for (const step of plan.steps) {
    const blocker = ownBlocker(step, inputs);
    if (blocker !== undefined) held.set(step.id, blocker);
  }
  if (held.size === 0) return plan;
  // Dependents of held-back steps cannot run either; they wait with the same reason.
  let grew = true;
  while (grew) {
    grew = false;
    for (const step of plan.steps) {
      if (held.has(step.id)) continue;
      const dep = step.dependsOn.find((d) => held.has(d));
      if (dep === undefined) continue;
      held.set(step.id, held.get(dep) as Blocker);
      grew = true;
    }
  }
  const blockers = [...plan.blockers];
  const seen = new Set(blockers.map((b) => JSON.stringify(b)));
  for (const blocker of held.values()) {
    const key = JSON.stringify(blocker);
    if (!seen.has(key)) {
      seen.add(key);
      blockers.push(blocker);
    }
  }
  return { steps: plan.steps.filter((s) => !held.has(s.id)), blockers };
}

function ownBlocker(step: Step, inputs: HoldBackInputs): Blocker | undefined {
  const serviceName = serviceOf(step);
  if (step.kind === 'takeLock' && !step.force) {
    const signature = inputs.lockWaits.get(step.id);
    if (signature !== undefined && signature === inputs.lockSignature(step.appId)) {
      return { kind: 'locked', appUuid: step.appUuid ?? '', serviceName: step.services[0] ?? '' };
    }
  }
  const keys = [step.id];
  if (step.appUuid !== undefined && serviceName !== undefined)
    keys.push(`${step.appUuid}/${serviceName}`);
  if (step.appUuid !== undefined) keys.push(step.appUuid);
  for (const key of keys) {
    const entry = inputs.backoffs.get(key);
    if (entry !== undefined)
      return {
        kind: 'backoff',
        appUuid: step.appUuid,
        serviceName,
        stepId: step.id,
        until: entry.until,
        error: entry.lastError,
      };
  }
  return undefined;
}
