/**
 * Which target images are on the engine, and which images may be cleaned up. An image reference is
 * present when the store told us its engine id (and the engine has it) or when an engine image carries
 * the reference as a tag or digest (a re-tag never makes an image look missing).
 */
import type { CurrentState, ImageState, TargetState } from '../domain/model.js';
import type { PlanContext } from './context.js';

export class ImageIndex {
  private readonly ids = new Set<string>();
  private readonly byRef = new Map<string, string>();
  private readonly byDigest = new Map<string, string>();

  constructor(
    images: readonly ImageState[],
    private readonly knownIds: Readonly<Record<string, string>>,
  ) {
    // Sorted so that, should two images claim one tag, the choice does not depend on input order.
    const sorted = [...images].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const image of sorted) {
      this.ids.add(image.id);
      for (const ref of [...image.repoTags, ...image.repoDigests]) {
        if (!this.byRef.has(ref)) this.byRef.set(ref, image.id);
      }
      for (const ref of image.repoDigests) {
        const digest = digestOf(ref);
        if (digest !== undefined && !this.byDigest.has(digest)) this.byDigest.set(digest, image.id);
      }
    }
  }

  /** Engine image id for a target image reference, or undefined when it must be downloaded. */
  resolve(ref: string): string | undefined {
    const known = this.knownIds[ref];
    if (known !== undefined && this.ids.has(known)) return known;
    const tagged = this.byRef.get(ref);
    if (tagged !== undefined) return tagged;
    const digest = digestOf(ref);
    return digest === undefined ? undefined : this.byDigest.get(digest);
  }

  hasId(id: string): boolean {
    return this.ids.has(id);
  }
}

function digestOf(ref: string): string | undefined {
  const at = ref.lastIndexOf('@');
  return at < 0 ? undefined : ref.slice(at + 1);
}

/** Engine ids of images the agent pulled (the context may name them by id or by reference). */
export function pulledImageIds(current: CurrentState, ctx: PlanContext): Set<string> {
  const wanted = new Set(ctx.pulledImages);
  const ids = new Set<string>();
  for (const image of current.images) {
    if (
      wanted.has(image.id) ||
      image.repoTags.some((t) => wanted.has(t)) ||
      image.repoDigests.some((d) => wanted.has(d))
    ) {
      ids.add(image.id);
    }
  }
  return ids;
}

/** Engine ids that some target service refers to: these are never cleaned up. */
export function targetImageIds(target: TargetState, index: ImageIndex): Set<string> {
  const ids = new Set<string>();
  for (const app of Object.values(target.apps)) {
    for (const service of Object.values(app.release?.services ?? {})) {
      const id = index.resolve(service.image);
      if (id !== undefined) ids.add(id);
    }
  }
  return ids;
}

/**
 * Images the agent pulled that neither the target, nor the last confirmed releases (a rollback target),
 * nor any container (in any state) uses: the engine refuses to remove an image a container still
 * references, and the target may need it again.
 */
export function cleanupCandidates(
  target: TargetState,
  current: CurrentState,
  ctx: PlanContext,
  index: ImageIndex,
): ImageState[] {
  const pulled = pulledImageIds(current, ctx);
  const needed = targetImageIds(target, index);
  for (const ref of ctx.protectedImages) {
    const id = index.resolve(ref);
    if (id !== undefined) needed.add(id);
  }
  const used = new Set(current.containers.map((c) => c.engineImageId));
  return current.images
    .filter((image) => pulled.has(image.id) && !needed.has(image.id) && !used.has(image.id))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
