/**
 * An app that stays in the target with a release: dead containers and services that left the release
 * go, networks and volumes are brought in line, and every target service is planned, dependencies first.
 */
import type { ContainerState, ReleaseTarget } from '../domain/model.js';
import { newestFirst } from './app-view.js';
import { dispose } from './containers.js';
import { serviceOrder } from './dependencies.js';
import { finishNetworks, planNetworksAndVolumes } from './networks-volumes.js';
import type { AppScope } from './scope.js';
import { planService } from './service-planner.js';

export function planAppUpdate(scope: AppScope, release: ReleaseTarget): void {
  planNetworksAndVolumes(scope, release);
  const live = new Map<string, ContainerState[]>();
  const outgoing = new Map<string, ContainerState[]>();
  const busy = new Set<string>();
  for (const c of scope.app.containers) {
    if (c.status === 'dead') {
      dispose(scope, c, 'the container is dead');
    } else if (c.status === 'removing') {
      // The engine is already removing it; its name and resources are not free until it is gone.
      busy.add(c.serviceName);
      scope.out.block({
        kind: 'containerStopping',
        appUuid: scope.uuid,
        serviceName: c.serviceName,
      });
    } else if (!(c.serviceName in release.services)) {
      dispose(scope, c, `service ${c.serviceName} is not in the target release`);
    } else {
      const into = c.handoverOld ? outgoing : live;
      into.set(c.serviceName, [...(into.get(c.serviceName) ?? []), c]);
    }
  }
  const { order, cyclic } = serviceOrder(release.services);
  for (const name of [...order, ...cyclic]) {
    const service = release.services[name];
    if (service === undefined || busy.has(name)) continue;
    const containers = [...(live.get(name) ?? [])].sort(newestFirst);
    planService(scope, service, containers, outgoing.get(name) ?? []);
  }
  finishNetworks(scope, release);
}
