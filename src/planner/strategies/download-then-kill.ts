/**
 * download-then-kill (the default): the new image downloads while the old container keeps running; the
 * old one is killed only once every target image of the app is on the engine, and the new one is
 * created and started right after it in the same round (stop → remove → create → start).
 */
import type { ContainerState, ServiceTarget } from '../../domain/model.js';
import { dispose } from '../containers.js';
import { createAndStart, imagesReadyToReplace } from '../create.js';
import type { AppScope, ServiceOutcome } from '../scope.js';

export function downloadThenKill(
  scope: AppScope,
  s: ServiceTarget,
  old: ContainerState,
  why: string,
  extrasGone: string[],
): ServiceOutcome {
  const waiting: ServiceOutcome = { startStepId: undefined, container: undefined };
  if (!imagesReadyToReplace(scope, s)) return waiting;
  const removed = dispose(scope, old, why);
  return createAndStart(scope, s, [removed, ...extrasGone], `replaces ${old.name} (${why})`);
}
