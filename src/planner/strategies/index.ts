/** Picks how a service's differing container is replaced. */
import type { ContainerState, ServiceTarget, UpdateStrategy } from '../../domain/model.js';
import { isActive } from '../app-view.js';
import type { AppScope, ServiceOutcome } from '../scope.js';
import { assertNever } from '../steps.js';
import { deleteThenDownload } from './delete-then-download.js';
import { downloadThenKill } from './download-then-kill.js';
import { handOver } from './hand-over.js';
import { killThenDownload } from './kill-then-download.js';

export { finishHandOver } from './hand-over.js';

/**
 * Hand-over only makes sense for a running container replaced by a running one; a network change also
 * forces a kill (the old container must leave the network first), as upstream does.
 */
export function effectiveStrategy(
  scope: AppScope,
  s: ServiceTarget,
  old: ContainerState,
): UpdateStrategy {
  if (
    s.updateStrategy === 'hand-over' &&
    (!s.running || !isActive(old) || scope.isNetworkAffected(old))
  ) {
    return 'download-then-kill';
  }
  return s.updateStrategy;
}

export function replaceContainer(
  scope: AppScope,
  s: ServiceTarget,
  old: ContainerState,
  why: string,
  extrasGone: string[],
): ServiceOutcome {
  const strategy = effectiveStrategy(scope, s, old);
  switch (strategy) {
    case 'download-then-kill':
      return downloadThenKill(scope, s, old, why, extrasGone);
    case 'kill-then-download':
      return killThenDownload(scope, s, old, why, extrasGone);
    case 'delete-then-download':
      return deleteThenDownload(scope, s, old, why, extrasGone);
    case 'hand-over':
      return handOver(scope, s, old, why, extrasGone);
    default:
      return assertNever(strategy);
  }
}
