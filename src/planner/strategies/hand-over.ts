/**
 * hand-over: the new container is created and started while the old one still runs. The old one is
 * retired first (renamed `old_…`, restart policy `no`), then killed once the new one signals
 * handover-complete or the hand-over timeout has passed since the new one started.
 * docs/protocol.md#hand-over [quirk]: upstream's wait resolves at once, killing the old container right after
 * the new one starts; here the timeout is honoured through a `handoverPending` blocker until it passes.
 */
import { lockKey } from '../../domain/keys.js';
import type { ContainerState, ServiceTarget } from '../../domain/model.js';
import { timeOf } from '../app-view.js';
import { dispose, retire } from '../containers.js';
import { createAndStart, imagesReadyToReplace } from '../create.js';
import type { AppScope, ServiceOutcome } from '../scope.js';

export function handOver(
  scope: AppScope,
  s: ServiceTarget,
  old: ContainerState,
  why: string,
  extrasGone: string[],
): ServiceOutcome {
  const waiting: ServiceOutcome = { startStepId: undefined, container: undefined };
  if (!imagesReadyToReplace(scope, s)) return waiting;
  // A stale outgoing container of an earlier hand-over may still hold the `old_…` name: it goes first.
  const stale = scope.world.containersByName.get(`old_${old.name}`);
  if (
    stale !== undefined &&
    stale.appUuid === scope.uuid &&
    stale.serviceName === old.serviceName
  ) {
    dispose(scope, stale, 'an earlier hand-over left it behind');
  }
  const retired = retire(scope, old);
  if (retired === undefined) {
    scope.out.block({ kind: 'containerStopping', appUuid: scope.uuid, serviceName: s.serviceName });
    return waiting;
  }
  return createAndStart(scope, s, [retired, ...extrasGone], `takes over from ${old.name} (${why})`);
}

/**
 * Outgoing containers (`old_…`) of the service: killed once the hand-over is done, at once when the
 * target no longer hands over (strategy changed, service stopped or gone).
 */
export function finishHandOver(
  scope: AppScope,
  s: ServiceTarget,
  outgoing: readonly ContainerState[],
  incoming: ContainerState | undefined,
): void {
  if (outgoing.length === 0) return;
  if (s.updateStrategy !== 'hand-over' || !s.running) {
    for (const c of outgoing) dispose(scope, c, 'the service no longer hands over');
    return;
  }
  // A network it is on must go before the new container can be created: waiting would deadlock.
  const affected = outgoing.filter((c) => scope.isNetworkAffected(c));
  for (const c of affected)
    dispose(scope, c, 'a network it is attached to is removed or recreated');
  if (affected.length === outgoing.length) return;
  // Not started yet: the steps or blockers that create/start it explain the wait.
  if (incoming === undefined || incoming.startedAt === undefined) return;
  const complete =
    scope.appId !== undefined &&
    scope.world.handoverComplete.has(lockKey(scope.appId, s.serviceName));
  const until = timeOf(incoming.startedAt) + s.handoverTimeoutMs;
  if (complete || scope.ctx.now >= until) {
    const why = complete
      ? `${incoming.name} signalled hand-over complete`
      : 'the hand-over timeout passed';
    for (const c of outgoing) dispose(scope, c, why);
    return;
  }
  scope.out.block({
    kind: 'handoverPending',
    appUuid: scope.uuid,
    serviceName: s.serviceName,
    until,
  });
}
