/**
 * Keyed backoff from the reconciler: a step whose id, service (`<appUuid>/<service>`) or app is backed
 * off is withheld with a `backoff` blocker, and so is everything that depends on it; the rest of the
 * plan (other services, other apps) goes ahead.
 */
import type { PlanContext } from './context.js';
import type { DraftPlan } from './draft.js';
import { serviceKey, stepIds } from './ids.js';
import { withhold } from './prune.js';
import { type Step, assertNever } from './steps.js';

interface Active {
  until: number;
  error: string;
}

export function applyBackoff(plan: DraftPlan, ctx: PlanContext): void {
  const active = new Map<string, Active>();
  const note = (key: string, until: number, error: string): void => {
    if (until <= ctx.now) return;
    const known = active.get(key);
    if (known === undefined || until > known.until) active.set(key, { until, error });
  };
  for (const b of ctx.backoffs) note(b.key, b.until, b.error);
  for (const f of ctx.failedPulls) note(stepIds.pullImage(f.image), f.until, f.error);
  if (active.size === 0) return;

  const victims: string[] = [];
  for (const { step } of [...plan.drafts.values()].sort((a, b) =>
    a.step.id < b.step.id ? -1 : 1,
  )) {
    const service = serviceOf(step);
    const hit =
      active.get(step.id) ??
      (step.appUuid !== undefined && service !== undefined
        ? active.get(serviceKey(step.appUuid, service))
        : undefined) ??
      (step.appUuid !== undefined ? active.get(step.appUuid) : undefined);
    if (hit === undefined) continue;
    victims.push(step.id);
    plan.block({
      kind: 'backoff',
      appUuid: step.appUuid,
      serviceName: service,
      stepId: step.id,
      until: hit.until,
      error: hit.error,
    });
  }
  withhold(plan.drafts, victims);
}

/** The service a step acts on, if any. */
export function serviceOf(step: Step): string | undefined {
  switch (step.kind) {
    case 'pullImage':
    case 'startContainer':
    case 'stopContainer':
    case 'removeContainer':
    case 'renameContainer':
    case 'retireContainer':
    case 'discardContainer':
      return step.serviceName;
    case 'createContainer':
      return step.service.serviceName;
    case 'removeImage':
    case 'createNetwork':
    case 'removeNetwork':
    case 'createVolume':
    case 'removeVolume':
    case 'takeLock':
    case 'releaseLock':
    case 'recordCommit':
    case 'createSupervisorNetwork':
      return undefined;
    default:
      return assertNever(step);
  }
}
