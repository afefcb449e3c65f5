/**
 * Update windows as a planner input: outside the window, steps that disrupt a running service (stop it,
 * remove or retire its container) are withheld with an `outsideUpdateWindow` blocker carrying the time
 * the window opens, and so is everything that depends on them (the create that reuses the name, the
 * start after it). Everything else goes on: downloads, new services, starting stopped ones, commit-only
 * renames, so that the switch inside the window is quick. A forced apply and the lock override go
 * through, as they do through update locks.
 */
import { windowState } from '../domain/update-window.js';
import { isActive } from './app-view.js';
import type { PlanContext } from './context.js';
import { withhold } from './prune.js';
import type { AppScope } from './scope.js';
import { assertNever, type Step } from './steps.js';
import { serviceOf } from './backoff.js';

/** Epoch ms the window opens when this round is outside it (and not forced); undefined when open. */
export function closedUntil(ctx: PlanContext): number | undefined {
  if (ctx.updateWindow === undefined || ctx.force || ctx.lockOverride) return undefined;
  const state = windowState(ctx.updateWindow, ctx.now);
  return state.open ? undefined : state.opensAt;
}

/** Withholds the app's disruptive steps until `opensAt`, one blocker per service they touch. */
export function applyUpdateWindow(scope: AppScope, opensAt: number | undefined): void {
  if (opensAt === undefined) return;
  const active = new Set(scope.app.containers.filter(isActive).map((c) => c.id));
  const victims = [...scope.out.drafts.values()]
    .map((d) => d.step)
    .filter((step) => isDisruptive(step, active));
  if (victims.length === 0) return;
  withhold(
    scope.out.drafts,
    victims.map((s) => s.id),
  );
  for (const serviceName of new Set(victims.map((s) => serviceOf(s) ?? '')))
    scope.out.block({
      kind: 'outsideUpdateWindow',
      appUuid: scope.uuid,
      serviceName,
      until: opensAt,
    });
}

/** Stopping a container, or removing/retiring one that runs: what a person on the device would notice. */
export function isDisruptive(step: Step, activeContainerIds: ReadonlySet<string>): boolean {
  switch (step.kind) {
    case 'stopContainer':
      return true;
    case 'removeContainer':
    case 'retireContainer':
    case 'discardContainer':
      return activeContainerIds.has(step.containerId);
    // A commit-only rename keeps the container running; the rest never touch a running container.
    case 'renameContainer':
    case 'pullImage':
    case 'removeImage':
    case 'createNetwork':
    case 'createSupervisorNetwork':
    case 'removeNetwork':
    case 'createVolume':
    case 'removeVolume':
    case 'takeLock':
    case 'releaseLock':
    case 'createContainer':
    case 'startContainer':
    case 'recordCommit':
      return false;
    default:
      return assertNever(step);
  }
}
