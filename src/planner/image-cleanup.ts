/**
 * Image clean-up runs once the device has settled: no other work in the plan, nothing waiting, nothing
 * downloading (an update in flight may still need an old image, e.g. to roll back or as a delta source),
 * and not in local mode. It only removes images the agent pulled that no target or container uses.
 */
import { type ImageState } from '../domain/model.js';
import { cleanupCandidates } from './images.js';
import { stepIds } from './ids.js';
import type { Blocker, Step } from './steps.js';
import { isSettleStep } from './settle.js';
import type { World } from './world.js';

export function cleanupSteps(
  world: World,
  steps: readonly Step[],
  blockers: readonly Blocker[],
): Step[] {
  if (world.ctx.keepImages || blockers.length > 0 || world.current.downloads.length > 0) return [];
  if (!steps.every(isSettleStep)) return [];
  return cleanupCandidates(world.target, world.current, world.ctx, world.images).map(removeImage);
}

function removeImage(image: ImageState): Step {
  const name = image.repoTags[0] ?? image.repoDigests[0] ?? image.id;
  return {
    kind: 'removeImage',
    id: stepIds.removeImage(image.id),
    reason: `Remove image ${name}: we pulled it and nothing in the target or on the engine uses it any more.`,
    dependsOn: [],
    appUuid: undefined,
    image: name,
    engineImageId: image.id,
  };
}
