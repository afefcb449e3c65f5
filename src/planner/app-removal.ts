/**
 * An app that left the target (or has no release any more): its containers are stopped and removed
 * under its update locks, then its networks; its volumes only when the app itself is gone and volumes
 * are not kept (local mode keeps them). All in one round, ordered by dependsOn.
 */
import { dispose } from './containers.js';
import { removeWhenUnused } from './networks-volumes.js';
import type { AppScope } from './scope.js';

export function planAppRemoval(scope: AppScope, removeVolumes: boolean): void {
  const why =
    removeVolumes || scope.world.target.apps[scope.uuid] === undefined
      ? 'the app is no longer in the target'
      : 'the app has no release in the target';
  for (const c of scope.app.containers) {
    if (c.status === 'removing') {
      scope.out.block({
        kind: 'containerStopping',
        appUuid: scope.uuid,
        serviceName: c.serviceName,
      });
    } else {
      dispose(scope, c, why);
    }
  }
  const networks = [...new Set(scope.app.networks.map((n) => n.engineName))].sort();
  for (const engineName of networks) removeWhenUnused(scope, 'network', engineName, why);
  if (!removeVolumes) return;
  for (const v of scope.app.volumes) removeWhenUnused(scope, 'volume', v.engineName, why);
}
