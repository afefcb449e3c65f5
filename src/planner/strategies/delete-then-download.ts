/**
 * delete-then-download: like kill-then-download, and the old image is removed too before the new one
 * is downloaded (for devices without room for both). Only an image the agent pulled, that nothing else
 * uses and the target does not need, is removed; local mode (keepImages) keeps it.
 */
import type { ContainerState, ServiceTarget } from '../../domain/model.js';
import { dispose } from '../containers.js';
import { createAndStart } from '../create.js';
import { stepIds } from '../ids.js';
import type { AppScope, ServiceOutcome } from '../scope.js';

export function deleteThenDownload(
  scope: AppScope,
  s: ServiceTarget,
  old: ContainerState,
  why: string,
  extrasGone: string[],
): ServiceOutcome {
  const removed = dispose(scope, old, why);
  const after = [removed];
  if (scope.world.images.resolve(s.image) === undefined) {
    const imageRemoved = removeOldImage(scope, old, removed);
    if (imageRemoved !== undefined) after.push(imageRemoved);
  }
  return createAndStart(scope, s, [...after, ...extrasGone], `replaces ${old.name} (${why})`);
}

function removeOldImage(scope: AppScope, old: ContainerState, removed: string): string | undefined {
  const { world } = scope;
  const imageId = old.engineImageId;
  if (world.ctx.keepImages || !world.pulledIds.has(imageId) || !world.images.hasId(imageId))
    return undefined;
  if (world.current.containers.some((c) => c.id !== old.id && c.engineImageId === imageId))
    return undefined;
  const targetNeeds = Object.values(world.target.apps).some((app) =>
    Object.values(app.release?.services ?? {}).some(
      (t) => world.images.resolve(t.image) === imageId,
    ),
  );
  if (targetNeeds) return undefined;
  return scope.out.add({
    kind: 'removeImage',
    id: stepIds.removeImage(imageId),
    reason: `Remove the old image of service ${old.serviceName} before downloading the new one (delete-then-download).`,
    dependsOn: [removed],
    appUuid: scope.uuid,
    image: imageId,
    engineImageId: imageId,
  });
}
