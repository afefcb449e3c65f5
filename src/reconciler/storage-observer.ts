/**
 * The disk preflight's observation, made before each plan while a target image is missing: the free
 * space of the engine's data root (statfs), what each missing image needs (registry manifests, layers
 * already on the engine counted as free, see storage-estimate.ts) and what removing each local image
 * would give back. The planner decides; this only measures.
 *
 * Bounded and cached: registry answers per image reference (a failure is retried after a while, not every
 * round), local image layers per engine image id (immutable), the engine's data root once. Nothing is
 * measured when no target image is missing. When the free space cannot be known there is no preflight
 * (undefined) and one warning until it can be known again; an image whose manifest cannot be read is
 * not counted, with one warning per image.
 */
import { statfs } from 'node:fs/promises';
import type { CurrentState, TargetState } from '../domain/model.js';
import type { EngineAdapter, EngineStorageInfo, RegistryAuth } from '../engine/port.js';
import type { StorageFacts } from '../planner/index.js';
import { ManifestClient, type Platform, type RegistryImage } from '../registry/manifest-client.js';
import type { Clock } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { estimateDownloadBytes, reclaimableBytes } from './storage-estimate.js';

export interface StorageObserverDeps {
  engine: EngineAdapter;
  authFor: (image: string) => RegistryAuth | undefined;
  clock: Clock;
  logger: Logger;
  /** Config var SUPERVISOR_DISK_RESERVE, read each round. */
  reserveBytes: () => number;
  /** Where the agent sees the engine's data root (BOSUN_ENGINE_DATA_ROOT); default its DockerRootDir. */
  dataRootPath?: string | undefined;
  /** Bound of each registry request. */
  registryTimeoutMs?: number;
  /** How long a failed manifest read is remembered before it is tried again. */
  retryFailedAfterMs?: number;
  fetch?: typeof fetch;
}

/** Registry answers kept at most (one per target image reference; more only with huge targets). */
const MAX_CACHED_IMAGES = 256;

type Cached = { ok: true; image: RegistryImage } | { ok: false; until: number };

export class StorageObserver {
  private engineInfo: { storage: EngineStorageInfo; platform: Platform } | undefined;
  private client: ManifestClient | undefined;
  private readonly manifests = new Map<string, Cached>();
  private readonly layersById = new Map<string, string[]>();
  private freeSpaceWarned = false;

  constructor(private readonly deps: StorageObserverDeps) {}

  /** The preflight's inputs for this round, or undefined for no preflight. Never throws. */
  async facts(target: TargetState, current: CurrentState): Promise<StorageFacts | undefined> {
    const missing = missingImages(target, current);
    if (missing.length === 0) return undefined;
    try {
      const engine = await this.engine();
      const freeBytes = await this.freeBytes(engine.storage.dataRoot);
      if (freeBytes === undefined) return undefined;
      const images = await this.deps.engine.listImages();
      const local = await Promise.all(
        images.map(async (i) => ({ id: i.id, size: i.size, layers: await this.layersOf(i.id) })),
      );
      const present = new Set(local.flatMap((i) => i.layers));
      const needBytes: Record<string, number> = {};
      await Promise.all(
        missing.map(async (ref) => {
          const image = await this.registryImage(ref);
          if (image !== undefined) needBytes[ref] = estimateDownloadBytes(image, present);
        }),
      );
      return {
        freeBytes,
        reserveBytes: this.deps.reserveBytes(),
        needBytes,
        freedBytes: reclaimableBytes(local),
      };
    } catch (err) {
      // The engine did not answer: the round's observation fails on its own; no preflight this time.
      this.deps.logger.warn('storage.preflight-skipped', { error: errorMessage(err) });
      this.engineInfo = undefined;
      return undefined;
    }
  }

  private async engine(): Promise<{ storage: EngineStorageInfo; platform: Platform }> {
    if (this.engineInfo !== undefined) return this.engineInfo;
    const [storage, version] = await Promise.all([
      this.deps.engine.storageInfo(),
      this.deps.engine.version(),
    ]);
    const insecure = new Set(storage.insecureRegistries);
    this.engineInfo = { storage, platform: { os: version.os, architecture: version.arch } };
    this.client = new ManifestClient({
      authFor: this.deps.authFor,
      insecure: (registry) => insecure.has(registry) || isLoopback(registry),
      platform: this.engineInfo.platform,
      timeoutMs: this.deps.registryTimeoutMs ?? 10_000,
      now: () => this.deps.clock.now(),
      ...(this.deps.fetch === undefined ? {} : { fetch: this.deps.fetch }),
    });
    return this.engineInfo;
  }

  private async freeBytes(dataRoot: string): Promise<number | undefined> {
    const path = this.deps.dataRootPath ?? dataRoot;
    try {
      if (path === '') throw new Error('the engine did not name its data root');
      const fs = await statfs(path);
      if (this.freeSpaceWarned) this.deps.logger.info('storage.free-space-known', { path });
      this.freeSpaceWarned = false;
      // bavail: what a process without root's reserved blocks may still write.
      return fs.bavail * fs.bsize;
    } catch (err) {
      if (!this.freeSpaceWarned)
        this.deps.logger.warn('storage.free-space-unknown', {
          path,
          error: errorMessage(err),
          message: `No disk preflight: cannot read the free space of the engine's data root ${path} (set BOSUN_ENGINE_DATA_ROOT to where the agent sees it)`,
        });
      this.freeSpaceWarned = true;
      return undefined;
    }
  }

  private async layersOf(imageId: string): Promise<string[]> {
    const known = this.layersById.get(imageId);
    if (known !== undefined) return known;
    const layers = await this.deps.engine.imageLayers(imageId);
    if (this.layersById.size >= MAX_CACHED_IMAGES) this.layersById.clear();
    this.layersById.set(imageId, layers);
    return layers;
  }

  private async registryImage(ref: string): Promise<RegistryImage | undefined> {
    const now = this.deps.clock.now();
    const cached = this.manifests.get(ref);
    if (cached?.ok === true) return cached.image;
    if (cached !== undefined && cached.until > now) return undefined;
    const client = this.client;
    if (client === undefined) return undefined;
    try {
      const image = await client.imageLayers(ref);
      this.remember(ref, { ok: true, image });
      const compressed = image.layers.reduce((sum, l) => sum + l.size, 0);
      this.deps.logger.info('storage.manifest-read', {
        image: ref,
        layers: image.layers.length,
        compressed,
      });
      return image;
    } catch (err) {
      if (cached === undefined)
        this.deps.logger.warn('storage.manifest-unavailable', {
          image: ref,
          error: errorMessage(err),
          message: `The disk preflight does not count ${ref}: ${errorMessage(err)}`,
        });
      this.remember(ref, { ok: false, until: now + (this.deps.retryFailedAfterMs ?? 300_000) });
      return undefined;
    }
  }

  private remember(ref: string, entry: Cached): void {
    this.manifests.delete(ref);
    if (this.manifests.size >= MAX_CACHED_IMAGES) {
      const oldest = this.manifests.keys().next().value;
      if (oldest !== undefined) this.manifests.delete(oldest);
    }
    this.manifests.set(ref, entry);
  }
}

/** Target image references no engine image carries as a tag, digest or id. */
export function missingImages(target: TargetState, current: CurrentState): string[] {
  const known = new Set<string>();
  for (const image of current.images) {
    known.add(image.id);
    for (const ref of [...image.repoTags, ...image.repoDigests]) {
      known.add(ref);
      const at = ref.indexOf('@');
      if (at >= 0) known.add(ref.slice(at + 1));
    }
  }
  const refs = new Set<string>();
  for (const app of Object.values(target.apps))
    for (const service of Object.values(app.release?.services ?? {})) {
      const at = service.image.indexOf('@');
      const digest = at >= 0 ? service.image.slice(at + 1) : undefined;
      if (!known.has(service.image) && (digest === undefined || !known.has(digest)))
        refs.add(service.image);
    }
  return [...refs].sort();
}

function isLoopback(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
