/**
 * kill-then-download: the old container goes first (saves disk and memory on small devices); the new
 * image is downloaded after it is removed, and the new container comes in a later round.
 */
import type { ContainerState, ServiceTarget } from '../../domain/model.js';
import { dispose } from '../containers.js';
import { createAndStart } from '../create.js';
import type { AppScope, ServiceOutcome } from '../scope.js';

export function killThenDownload(
  scope: AppScope,
  s: ServiceTarget,
  old: ContainerState,
  why: string,
  extrasGone: string[],
): ServiceOutcome {
  const removed = dispose(scope, old, why);
  return createAndStart(scope, s, [removed, ...extrasGone], `replaces ${old.name} (${why})`);
}
