/**
 * FakeEngine's image store: how the engine names, finds, tags, removes and downloads images.
 * Downloads are simulated layer by layer (progress through the same PullProgressTracker as Docker's,
 * a macrotask between chunks so an abort can land half way); layers already present are not fetched.
 */
import type { Clock } from '../../../src/shared/clock.js';
import { BosunError } from '../../../src/shared/errors.js';
import { notFound, resolveBy, type FakeImage } from './fake-engine-state.js';
import type { FakeImageManifest } from './fake-registry.js';
import { splitReference, withDefaultTag } from '../../../src/engine/image-reference.js';
import type { EngineEvent, ImageInfo, PullOptions } from '../../../src/engine/port.js';
import { PullProgressTracker } from '../../../src/engine/pull-progress.js';

const PULL_CHUNKS = 4;

export class FakeImageStore {
  private readonly images = new Map<string, FakeImage>();

  constructor(
    private readonly clock: Clock,
    private readonly emit: (event: EngineEvent) => void,
  ) {}

  list(): ImageInfo[] {
    return [...this.images.values()].map((i) => structuredClone(i.info));
  }

  inspect(ref: string): ImageInfo {
    return structuredClone(this.get(ref).info);
  }

  get(ref: string): FakeImage {
    return this.find(ref).image;
  }

  /** Names first (`repo:tag`, `repo@digest`), then ids and id prefixes, as the engine looks images up. */
  find(ref: string): { image: FakeImage; byName: boolean } {
    const images = [...this.images.values()];
    const named = ref.includes('@')
      ? images.find((i) => i.info.repoDigests.includes(ref))
      : images.find((i) => i.info.repoTags.includes(withDefaultTag(ref)));
    if (named !== undefined) return { image: named, byName: true };
    const byId = resolveBy(
      images,
      ref,
      (i) => i.info.id,
      () => '',
    );
    if (byId === undefined) throw notFound('image', ref);
    return { image: byId, byName: false };
  }

  /** Records `manifest` as present under `ref` (a tag moves from whichever image had it). */
  store(ref: string, manifest: FakeImageManifest): void {
    const digest = `${splitReference(ref).repository}@${manifest.digest}`;
    this.untagEverywhere(ref);
    const existing = this.images.get(manifest.id);
    if (existing !== undefined) {
      existing.info.repoTags.push(ref);
      if (!existing.info.repoDigests.includes(digest)) existing.info.repoDigests.push(digest);
      return;
    }
    this.images.set(manifest.id, {
      layers: manifest.layers.map((l) => l.id),
      info: {
        id: manifest.id,
        repoTags: [ref],
        repoDigests: [digest],
        labels: { ...manifest.labels },
        createdAt: new Date(Math.floor(this.clock.now() / 1000) * 1000).toISOString(),
        size: manifest.layers.reduce((sum, l) => sum + l.size, 0),
      },
    });
  }

  tag(ref: string, repo: string, tag: string): void {
    const image = this.get(ref);
    const name = `${repo}:${tag}`;
    this.untagEverywhere(name);
    image.info.repoTags.push(name);
    this.emit({ type: 'image', action: 'tag', id: image.info.id, time: this.clock.now() });
  }

  /** `usersOf` gives the containers created from an image id: they pin it unless forced. */
  remove(reference: string, force: boolean, usersOf: (imageId: string) => string[]): void {
    const { image, byName } = this.find(reference);
    const info = image.info;
    const users = usersOf(info.id);
    if (byName) {
      // By name the engine removes that name; the image goes only with its last name and no user.
      const name = reference.includes('@') ? reference : withDefaultTag(reference);
      const others = [...info.repoTags, ...info.repoDigests].filter(
        (n) => n !== name && !(n.includes('@') && !name.includes('@')),
      );
      if (others.length > 0 || (users.length > 0 && force)) {
        info.repoTags = info.repoTags.filter((t) => t !== name);
        info.repoDigests = info.repoDigests.filter((d) => d !== name);
        this.emit({ type: 'image', action: 'untag', id: info.id, time: this.clock.now() });
        return;
      }
    } else if (info.repoTags.length > 1 && !force) {
      throw new BosunError(
        'CONFLICT',
        `conflict: unable to delete ${info.id} (must be forced) - image is referenced in multiple repositories`,
      );
    }
    if (users.length > 0 && !force) {
      throw new BosunError(
        'CONFLICT',
        `conflict: unable to remove repository reference "${reference}" (must force) - container ${users[0] ?? ''} is using its referenced image ${info.id}`,
      );
    }
    this.images.delete(info.id);
    this.emit({ type: 'image', action: 'delete', id: info.id, time: this.clock.now() });
  }

  /** Fetches the layers the engine lacks, reporting progress; stores the image unless aborted first. */
  async download(ref: string, manifest: FakeImageManifest, options: PullOptions): Promise<void> {
    const cancelled = (): BosunError => new BosunError('CANCELLED', `pull ${ref}: cancelled`);
    const present = new Set([...this.images.values()].flatMap((i) => i.layers));
    const tracker = new PullProgressTracker(ref);
    const report = (status: string, id: string, detail: object = {}): void => {
      const progress = tracker.update({ status, id, progressDetail: detail });
      if (progress !== undefined) options.onProgress?.(progress);
    };
    const missing = manifest.layers.filter((l) => !present.has(l.id));
    for (const layer of manifest.layers) {
      report(present.has(layer.id) ? 'Already exists' : 'Pulling fs layer', layer.id);
    }
    for (const layer of missing) {
      for (let chunk = 1; chunk <= PULL_CHUNKS; chunk++) {
        // A macrotask between chunks: an abort from a timer or another request lands half way, as with Docker.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (options.signal?.aborted) throw cancelled();
        const current = Math.floor((layer.size * chunk) / PULL_CHUNKS);
        report('Downloading', layer.id, { current, total: layer.size });
        if (options.signal?.aborted) throw cancelled();
      }
      report('Download complete', layer.id);
    }
    for (const layer of missing) report('Pull complete', layer.id);
    options.onProgress?.(tracker.complete());
    this.store(ref, manifest);
    this.emit({ type: 'image', action: 'pull', id: ref, time: this.clock.now() });
  }

  private untagEverywhere(name: string): void {
    for (const image of this.images.values()) {
      image.info.repoTags = image.info.repoTags.filter((t) => t !== name);
    }
  }
}
