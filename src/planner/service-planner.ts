/**
 * One target service against its current containers: duplicates go (the newest is kept), a matching
 * container is kept (renamed/started/stopped as needed), a differing one is replaced per the update
 * strategy, no container means create; then outgoing hand-over containers are dealt with.
 */
import type { ContainerState, ServiceTarget } from '../domain/model.js';
import { dispose } from './containers.js';
import { createAndStart } from './create.js';
import { keepContainer } from './same-config.js';
import type { AppScope } from './scope.js';
import { finishHandOver, replaceContainer } from './strategies/index.js';

/**
 * @param live the service's containers other than outgoing hand-over ones, newest first
 * @param outgoing the service's `old_…` containers
 */
export function planService(
  scope: AppScope,
  s: ServiceTarget,
  live: readonly ContainerState[],
  outgoing: readonly ContainerState[],
): void {
  const [keep, ...extras] = live;
  // Extra containers go before the kept (or new) one starts: one running container per service.
  const extrasGone = extras.map((extra) =>
    dispose(
      scope,
      extra,
      `service ${s.serviceName} has more than one container; the newest is kept`,
    ),
  );
  let outcome;
  if (keep === undefined) {
    outcome = createAndStart(scope, s, extrasGone, `service ${s.serviceName} has no container`);
  } else {
    const difference = differs(scope, s, keep);
    outcome =
      difference === undefined
        ? keepContainer(scope, s, keep, extrasGone)
        : replaceContainer(scope, s, keep, difference, extrasGone);
  }
  scope.outcomes.set(s.serviceName, outcome);
  finishHandOver(scope, s, outgoing, outcome.container);
}

/** Why the container cannot serve the target as is, or undefined when it can. */
function differs(scope: AppScope, s: ServiceTarget, c: ContainerState): string | undefined {
  if (scope.isNetworkAffected(c)) return 'a network it is attached to is removed or recreated';
  const imageId = scope.world.images.resolve(s.image);
  if (imageId === undefined || c.engineImageId !== imageId) return 'the image changed';
  if (c.configHash !== s.configHash) return 'the configuration changed';
  return undefined;
}
