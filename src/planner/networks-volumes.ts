/**
 * App networks and volumes. Missing ones are created at once (creates of containers depend on them).
 * A network whose config changed is recreated, and one that left the target removed, only after every
 * container attached to it is removed in the same round (they are recreated by their services).
 * Volumes survive updates: a volume that leaves the target, or whose config changed, is kept (its data
 * matters more than its driver options); only app removal (purge) removes volumes.
 */
import type { ReleaseTarget } from '../domain/model.js';
import { stepIds } from './ids.js';
import type { AppScope } from './scope.js';

export function planNetworksAndVolumes(scope: AppScope, release: ReleaseTarget): void {
  const currentNetworks = new Map<string, (typeof scope.app.networks)[number][]>();
  for (const n of scope.app.networks)
    currentNetworks.set(n.engineName, [...(currentNetworks.get(n.engineName) ?? []), n]);
  const targetNames = new Set<string>();
  for (const name of Object.keys(release.networks).sort()) {
    const network = release.networks[name];
    if (network === undefined) continue;
    targetNames.add(network.engineName);
    const existing = currentNetworks.get(network.engineName) ?? [];
    // A network without our hash label (made by another agent) is adopted rather than recreated.
    const changed = existing.some(
      (n) => n.configHash !== undefined && n.configHash !== network.configHash,
    );
    const id = stepIds.createNetwork(network.engineName);
    if (changed) {
      scope.doomedNetworks.set(network.engineName, true);
      scope.networkCreates.set(network.engineName, id);
    } else if (existing.length === 0) {
      scope.networkCreates.set(
        network.engineName,
        scope.out.add({
          kind: 'createNetwork',
          id,
          reason: `Create network ${network.engineName}: the target release uses it.`,
          dependsOn: [],
          appUuid: scope.uuid,
          network,
        }),
      );
    }
  }
  for (const engineName of [...currentNetworks.keys()].sort()) {
    if (!targetNames.has(engineName)) scope.doomedNetworks.set(engineName, false);
  }
  const currentVolumes = new Set(scope.app.volumes.map((v) => v.engineName));
  for (const name of Object.keys(release.volumes).sort()) {
    const volume = release.volumes[name];
    if (volume === undefined || currentVolumes.has(volume.engineName)) continue;
    scope.volumeCreates.set(
      volume.engineName,
      scope.out.add({
        kind: 'createVolume',
        id: stepIds.createVolume(volume.engineName),
        reason: `Create volume ${volume.engineName}: the target release uses it.`,
        dependsOn: [],
        appUuid: scope.uuid,
        volume,
      }),
    );
  }
}

/**
 * After the services are planned: remove (and recreate) doomed networks once their containers go.
 * Recreating ones are created after their removal; creates of containers already depend on that id.
 */
export function finishNetworks(scope: AppScope, release: ReleaseTarget | undefined): void {
  for (const [engineName, recreate] of [...scope.doomedNetworks].sort(([a], [b]) =>
    a < b ? -1 : 1,
  )) {
    const removed = removeWhenUnused(
      scope,
      'network',
      engineName,
      recreate ? 'its configuration changed' : 'the target no longer has it',
    );
    const network = Object.values(release?.networks ?? {}).find((n) => n.engineName === engineName);
    if (removed === undefined || !recreate || network === undefined) continue;
    scope.out.add({
      kind: 'createNetwork',
      id: stepIds.createNetwork(engineName),
      reason: `Recreate network ${engineName} with its new configuration.`,
      dependsOn: [removed],
      appUuid: scope.uuid,
      network,
    });
  }
}

/**
 * Removes a network or volume after every container using it is removed in this plan; when some
 * container that stays still uses it, a `resourceInUse` blocker says so and nothing is removed.
 */
export function removeWhenUnused(
  scope: AppScope,
  resource: 'network' | 'volume',
  engineName: string,
  why: string,
): string | undefined {
  const users = scope.world.current.containers
    .filter((c) => (resource === 'network' ? c.networks : c.volumes).includes(engineName))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  const after: string[] = [];
  const staying: string[] = [];
  for (const c of users) {
    const removed = scope.removedBy.get(c.id);
    if (removed === undefined) staying.push(c.name);
    else after.push(removed);
  }
  if (staying.length > 0) {
    scope.out.block({
      kind: 'resourceInUse',
      appUuid: scope.uuid,
      resource: engineName,
      usedBy: staying,
    });
    return undefined;
  }
  const base = { dependsOn: after, appUuid: scope.uuid, engineName };
  return resource === 'network'
    ? scope.out.add({
        ...base,
        kind: 'removeNetwork',
        id: stepIds.removeNetwork(engineName),
        reason: `Remove network ${engineName}: ${why}.`,
      })
    : scope.out.add({
        ...base,
        kind: 'removeVolume',
        id: stepIds.removeVolume(engineName),
        reason: `Remove volume ${engineName}: ${why}.`,
      });
}
