/**
 * What happens when an app has nothing left to do this round (no steps, no blockers): its commit is
 * recorded as applied and the update locks we took are released. Locks we hold for apps that no longer
 * exist anywhere are released too, so a lock never outlives its app.
 */
import type { Blocker, Step } from './steps.js';
import { stepIds } from './ids.js';
import type { World } from './world.js';

export function settleSteps(
  world: World,
  appIds: ReadonlyMap<string, number | undefined>,
  steps: readonly Step[],
  blockers: readonly Blocker[],
): Step[] {
  const busy = new Set<string>();
  for (const s of steps) if (s.appUuid !== undefined) busy.add(s.appUuid);
  for (const b of blockers) if (b.appUuid !== undefined) busy.add(b.appUuid);
  const agentLockApps = new Set(
    world.current.locks.filter((l) => l.heldBy === 'agent').map((l) => l.appId),
  );

  const out: Step[] = [];
  const knownAppIds = new Set<number>();
  for (const [uuid, appId] of [...appIds].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (appId !== undefined) knownAppIds.add(appId);
    if (busy.has(uuid)) continue;
    const release = world.target.apps[uuid]?.release;
    if (release !== undefined && world.current.commits[uuid] !== release.commit) {
      out.push({
        kind: 'recordCommit',
        id: stepIds.recordCommit(uuid, release.commit),
        reason: `App ${uuid} now runs release ${release.commit} in full.`,
        dependsOn: [],
        appUuid: uuid,
        commit: release.commit,
      });
    }
    if (appId !== undefined && agentLockApps.has(appId))
      out.push(releaseLock(appId, uuid, `app ${uuid} has settled`));
  }
  for (const appId of [...agentLockApps].sort((a, b) => a - b)) {
    if (!knownAppIds.has(appId))
      out.push(releaseLock(appId, undefined, `app ${appId} no longer exists`));
  }
  return out;
}

function releaseLock(appId: number, appUuid: string | undefined, why: string): Step {
  return {
    kind: 'releaseLock',
    id: stepIds.releaseLock(appId),
    reason: `Release the update locks we hold for app ${appId}: ${why}.`,
    dependsOn: [],
    appUuid,
    appId,
  };
}

/** Steps that only record that the plan settled; image clean-up may run alongside them. */
export function isSettleStep(step: Step): boolean {
  return step.kind === 'recordCommit' || step.kind === 'releaseLock';
}
