/**
 * Disk preflight: before any byte is downloaded, the bytes the planned downloads need are held against
 * the free space of the engine's data root minus the reserve, so a pull never fills the disk.
 *
 * Apps are taken in uuid order (deterministic). An app's new downloads fit when their estimate is within
 * the budget plus what its own plan removes first (the old images delete-then-download removes before
 * downloading); if not, images we pulled that nothing uses are removed first, the app's downloads waiting
 * for those removals. If it still does not fit, the app is blocked as a whole with `insufficientStorage`:
 * none of its steps is planned, so a release that cannot download never takes its running services down
 * either (kill-then-download and delete-then-download would otherwise stop them first). Other apps go on.
 * Downloads already in flight hold their whole estimate (part of it is on disk already, counted twice:
 * this errs towards keeping room, and the next round measures again).
 */
import type { ImageState } from '../domain/model.js';
import type { StorageFacts } from './context.js';
import type { DraftPlan } from './draft.js';
import { stepIds } from './ids.js';
import { cleanupCandidates } from './images.js';
import { withhold } from './prune.js';
import type { Blocker, Step } from './steps.js';
import type { World } from './world.js';

type PullStep = Extract<Step, { kind: 'pullImage' }>;

export function applyStoragePreflight(plan: DraftPlan, world: World): void {
  const storage = world.ctx.storage;
  if (storage === undefined) return;
  const need = (image: string): number => Math.max(0, storage.needBytes[image] ?? 0);
  const freed = (imageId: string): number => Math.max(0, storage.freedBytes[imageId] ?? 0);
  const inFlight = world.current.downloads.reduce((sum, d) => sum + need(d.image), 0);
  let budget = storage.freeBytes - storage.reserveBytes - inFlight;
  const spares = world.ctx.keepImages
    ? []
    : cleanupCandidates(world.target, world.current, world.ctx, world.images).filter(
        (image) => !plan.has(stepIds.removeImage(image.id)) && freed(image.id) > 0,
      );

  for (const [uuid, pulls] of pullsByApp(plan)) {
    const needed = pulls.reduce((sum, p) => sum + need(p.image), 0);
    if (needed === 0) continue;
    let ownFreed = 0;
    for (const { step } of plan.drafts.values())
      if (step.kind === 'removeImage' && step.appUuid === uuid)
        ownFreed += freed(step.engineImageId);
    let room = budget + ownFreed;
    const extra: ImageState[] = [];
    while (needed > room && spares.length > 0) {
      const spare = spares.shift() as ImageState;
      extra.push(spare);
      room += freed(spare.id);
    }
    if (needed <= room) {
      budget = room - needed;
      makeRoomFirst(plan, uuid, pulls, extra);
      continue;
    }
    // Not enough even so: the spares stay available to the apps after this one.
    spares.unshift(...extra);
    blockApp(plan, uuid, pulls, { needed, storage });
  }
}

/** The planned downloads by app, apps in uuid order. */
function pullsByApp(plan: DraftPlan): [string, PullStep[]][] {
  const byApp = new Map<string, PullStep[]>();
  for (const { step } of plan.drafts.values()) {
    if (step.kind !== 'pullImage' || step.appUuid === undefined) continue;
    byApp.set(step.appUuid, [...(byApp.get(step.appUuid) ?? []), step]);
  }
  return [...byApp].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Removes the spare images before the app's downloads start. The removals carry the app's uuid so that a
 * failed (backed off) removal keeps the app busy instead of letting it look settled.
 */
function makeRoomFirst(
  plan: DraftPlan,
  uuid: string,
  pulls: readonly PullStep[],
  spares: readonly ImageState[],
): void {
  if (spares.length === 0) return;
  const ids = spares.map((image) => {
    const name = image.repoTags[0] ?? image.repoDigests[0] ?? image.id;
    return plan.add({
      kind: 'removeImage',
      id: stepIds.removeImage(image.id),
      reason: `Remove image ${name} to make room for the downloads of app ${uuid}: we pulled it and nothing uses it.`,
      dependsOn: [],
      appUuid: uuid,
      image: name,
      engineImageId: image.id,
    });
  });
  for (const pull of pulls) {
    const draft = plan.drafts.get(pull.id);
    if (draft !== undefined)
      draft.step = { ...draft.step, dependsOn: [...draft.step.dependsOn, ...ids] };
  }
}

function blockApp(
  plan: DraftPlan,
  uuid: string,
  pulls: readonly PullStep[],
  { needed, storage }: { needed: number; storage: StorageFacts },
): void {
  for (const pull of pulls) {
    const blocker: Blocker = {
      kind: 'insufficientStorage',
      appUuid: uuid,
      serviceName: pull.serviceName,
      image: pull.image,
      bytesNeeded: needed,
      bytesFree: storage.freeBytes,
      bytesReserved: storage.reserveBytes,
    };
    plan.block(blocker);
  }
  const appSteps: string[] = [];
  for (const { step } of plan.drafts.values()) if (step.appUuid === uuid) appSteps.push(step.id);
  withhold(plan.drafts, appSteps);
}
