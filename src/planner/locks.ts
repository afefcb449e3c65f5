/**
 * Update locks. Steps that stop, remove, rename or retire a running (or user-locked) service's
 * container need that service's lock: without force, work on a service a user has locked is withheld
 * (a `locked` blocker, and everything that depends on it waits too); otherwise one `takeLock` per app
 * takes the locks we do not hold yet, before any of those steps.
 *
 * A user lock holds back the whole app, as balena's does: an app that takes its lock is saying "do
 * not disrupt me now", and stopping one of its services while another holds the lock disrupts it too.
 * Work that needs no lock (pulls, creating containers for new services) goes on meanwhile.
 */
import type { LockState } from '../domain/model.js';
import { lockKey } from '../domain/keys.js';
import { stepIds } from './ids.js';
import { withhold } from './prune.js';
import type { AppScope } from './scope.js';

export function applyLocks(scope: AppScope): void {
  const { drafts } = scope.out;
  const force = scope.ctx.force || scope.ctx.lockOverride;
  if (!force) {
    const holders = scope.userLockedServices();
    const victims = [...drafts.values()]
      .filter((draft) => draft.lockService !== undefined)
      .map((draft) => draft.step.id);
    if (holders.length > 0 && victims.length > 0) {
      withhold(drafts, victims);
      for (const serviceName of holders)
        scope.out.block({ kind: 'locked', appUuid: scope.uuid, serviceName });
    }
  }
  const needing = [...drafts.values()].filter((d) => d.lockService !== undefined);
  const toTake = [...new Set(needing.map((d) => d.lockService as string))]
    .filter((s) => !scope.isAgentLocked(s))
    .sort();
  if (toTake.length === 0 || scope.appId === undefined) return;
  const appId = scope.appId;
  const wait = force ? undefined : scope.ctx.lockWaits.find((w) => w.appId === appId);
  if (
    wait !== undefined &&
    wait.userLocks === userLockSignature(scope.world.current.locks, appId)
  ) {
    // The host refused our lock for these user locks: nothing changed, so asking again is pointless.
    withhold(
      drafts,
      needing.map((d) => d.step.id),
    );
    scope.out.block({ kind: 'locked', appUuid: scope.uuid, serviceName: toTake[0] as string });
    return;
  }
  const takeId = scope.out.add({
    kind: 'takeLock',
    id: stepIds.takeLock(scope.appId),
    reason: `Take the update locks of ${toTake.join(', ')} before touching their containers.`,
    dependsOn: [],
    appUuid: scope.uuid,
    appId: scope.appId,
    services: toTake,
    force,
  });
  for (const draft of needing) draft.step.dependsOn.push(takeId);
}

/** The user locks (of one app, or all) as a comparable string: a lock wait ends when this changes. */
export function userLockSignature(locks: readonly LockState[], appId?: number): string {
  return locks
    .filter((l) => l.heldBy === 'user' && (appId === undefined || l.appId === appId))
    .map((l) => lockKey(l.appId, l.serviceName))
    .sort()
    .join(',');
}
