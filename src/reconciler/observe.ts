/**
 * Observe: one immutable CurrentState snapshot. One list call each for supervised containers, images,
 * networks and volumes (networks and volumes are filtered here, not at the engine, so legacy
 * `io.resin.*` ones come in the same answer), plus cheap file reads for locks and hand-over flags, the
 * in-memory downloads, and the store's commits. No decisions here: parsing only.
 */
import type {
  ContainerState,
  CurrentState,
  DownloadState,
  ImageState,
  LockState,
  NetworkState,
  VolumeState,
} from '../domain/model.js';
import type {
  ContainerInfo,
  ContainerSummary,
  EngineAdapter,
  EngineEvent,
  ImageInfo,
  NetworkInfo,
  VolumeInfo,
} from '../engine/port.js';
import type { Step } from '../planner/index.js';
import type { Clock } from '../shared/clock.js';
import { ObservationCache } from './observation-cache.js';
import { mapBounded } from '../shared/map-bounded.js';
import { configHashFromInspect, type ImageConfigInspect } from '../domain/adoption.js';
import { CONFIG_HASH_LABEL } from '../domain/config-hash.js';
import type { Logger } from '../shared/logger.js';
import { errorMessage, isBosunError } from '../shared/errors.js';

const SUPERVISED = ['io.balena.supervised', 'io.resin.supervised'];
/** `<service>_<imageId>_<releaseId>_<commit>` (docs/protocol.md#container-naming). */
const CONTAINER_NAME = /^(?:old_)?(.*)_(\d+)_(\d+)(?:_(.*?))?$/;
const VOLUME_NAME = /^(\d+)_(\S+)$/;

export interface LockReader {
  list(): Promise<LockState[]>;
  handoverComplete(): Promise<string[]>;
}

export interface ObserverDeps {
  engine: EngineAdapter;
  locks: LockReader;
  downloads: { list(): DownloadState[] };
  commits: { getCommits(): Promise<Record<string, string>> };
  logger: Logger;
  /** For the observation cache's expiry. */
  clock: Pick<Clock, 'now'>;
  /**
   * Extra `key=value` labels a container, network or volume must carry to be seen at all. Empty in
   * production; tests sharing one engine set their own owner label so that one agent never mistakes
   * another test's supervised containers for an app to remove.
   */
  scopeLabels?: readonly string[];
  /** Name of the supervisor network the agent manages (its presence is observed); undefined: not managed. */
  supervisorNetwork?: string;
}

export class Observer {
  /**
   * Whether to also list legacy `io.resin.supervised` containers. Only containers made by old
   * supervisors carry that label and bosun never creates one, so once a listing finds none it is
   * not asked again (saves an engine request per round) until the engine reconnects.
   */
  private legacyPossible = true;
  private legacyNetworksPossible = true;
  /** Seen once, the supervisor network is not asked for again until the engine reconnects. */
  private supervisorNetworkSeen = false;

  private readonly scope: readonly string[];
  /**
   * Config hashes of adopted containers (made without our hash label, e.g. by balena-supervisor), keyed by
   * what can change one in place: computed once, not every round. Pruned to the containers listed.
   */
  private readonly adoptedHashes = new Map<string, string>();
  /** Image configs (by engine image id) the adopted hashes are computed against. */
  private readonly imageConfigs = new Map<string, ImageConfigInspect>();
  /** What need not be asked again: see observation-cache.ts. */
  private readonly cache: ObservationCache<
    ContainerInfo,
    { images: ImageInfo[]; networks: NetworkInfo[]; volumes: VolumeInfo[] }
  >;

  constructor(private readonly deps: ObserverDeps) {
    this.scope = deps.scopeLabels ?? [];
    this.cache = new ObservationCache(() => deps.clock.now());
  }

  /** Every engine event (before any filtering): it tells what the next observation must ask again. */
  noteEvent(event: EngineEvent): void {
    this.cache.noteEvent(event);
  }

  /** A step ended, however: what it may have changed is asked again. */
  noteStep(step: Step): void {
    this.cache.noteStep(step);
  }

  /** Whether an object with these labels is within this observer's scope. */
  covers(labels: Record<string, string>): boolean {
    return this.inScope(labels);
  }

  private inScope(labels: Record<string, string>): boolean {
    return this.scope.every((pair) => {
      const at = pair.indexOf('=');
      return at < 0 ? labels[pair] !== undefined : labels[pair.slice(0, at)] === pair.slice(at + 1);
    });
  }

  /** The engine restarted or was replaced: look for legacy containers again. */
  engineReconnected(): void {
    this.legacyPossible = true;
    this.legacyNetworksPossible = true;
    this.cache.clear();
    this.supervisorNetworkSeen = false;
  }

  /**
   * Filtered at the engine too: the engine adapter inspects every network a list returns (the list
   * leaves out attached containers), so the unfiltered list would inspect bridge, host, none and every
   * network not ours, each round.
   */
  private async supervisedNetworks(): Promise<NetworkInfo[]> {
    const held = this.cache.list('networks');
    if (held !== undefined) return held;
    const { engine } = this.deps;
    // No per-network inspect: which containers are attached comes from the containers' own inspects.
    const [current, legacy] = await Promise.all([
      engine.listNetworks({ labels: ['io.balena.supervised', ...this.scope], attached: false }),
      this.legacyNetworksPossible
        ? engine.listNetworks({ labels: ['io.resin.supervised', ...this.scope], attached: false })
        : Promise.resolve([]),
    ]);
    if (legacy.length === 0) this.legacyNetworksPossible = false;
    const byId = new Map(current.map((n) => [n.id, n]));
    for (const n of legacy) if (!byId.has(n.id)) byId.set(n.id, n);
    const networks = [...byId.values()];
    this.cache.keepList('networks', networks);
    return networks;
  }

  /**
   * One list request (two while legacy containers are possible), then an inspect only of the containers
   * not held or whose list entry changed: the list lacks env, restart policy, exit code and start time.
   */
  private async supervisedContainers(): Promise<ContainerInfo[]> {
    const { engine } = this.deps;
    const [current, legacy] = await Promise.all([
      engine.listContainerSummaries({ labels: ['io.balena.supervised', ...this.scope] }),
      this.legacyPossible
        ? engine.listContainerSummaries({ labels: ['io.resin.supervised', ...this.scope] })
        : Promise.resolve([]),
    ]);
    if (legacy.length === 0) this.legacyPossible = false;
    const byId = new Map(current.map((c) => [c.id, c]));
    for (const c of legacy) if (!byId.has(c.id)) byId.set(c.id, c);
    this.cache.retainContainers(new Set(byId.keys()));
    const infos = await mapBounded([...byId.values()], INSPECT_CONCURRENCY, (summary) =>
      this.containerInfo(summary),
    );
    return infos.filter((i): i is ContainerInfo => i !== undefined);
  }

  private async containerInfo(summary: ContainerSummary): Promise<ContainerInfo | undefined> {
    const signature = `${summary.name}|${summary.state}|${summary.health}`;
    const held = this.cache.container(summary.id, signature);
    if (held !== undefined) return held;
    try {
      const info = await this.deps.engine.inspectContainer(summary.id);
      // Kept under the list's view of it, so a change between list and inspect is asked again.
      this.cache.keepContainer(summary.id, signature, info);
      return info;
    } catch (err) {
      if (isBosunError(err, 'NOT_FOUND')) return undefined; // removed between list and inspect
      throw err;
    }
  }

  private async images(): Promise<ImageInfo[]> {
    const held = this.cache.list('images');
    if (held !== undefined) return held;
    const images = await this.deps.engine.listImages();
    this.cache.keepList('images', images);
    return images;
  }

  private async volumes(): Promise<VolumeInfo[]> {
    const held = this.cache.list('volumes');
    if (held !== undefined) return held;
    const volumes = await this.deps.engine.listVolumes();
    this.cache.keepList('volumes', volumes);
    return volumes;
  }

  async observe(): Promise<CurrentState> {
    const { locks, commits, downloads } = this.deps;
    const [
      containers,
      images,
      networks,
      volumes,
      lockStates,
      handoverComplete,
      commitMap,
      supervisorNetwork,
    ] = await Promise.all([
      this.supervisedContainers(),
      this.images(),
      this.supervisedNetworks(),
      this.volumes(),
      locks.list(),
      locks.handoverComplete(),
      commits.getCommits(),
      this.supervisorNetworkPresent(),
    ]);
    const adopted = await this.adoptedConfigHashes(containers);
    return deepFreeze({
      containers: this.containers(containers, adopted),
      images: images.map(toImageState),
      networks: networks.filter((n) => this.inScope(n.labels)).flatMap(toNetworkState),
      volumes: volumes.filter((v) => this.inScope(v.labels)).flatMap(toVolumeState),
      locks: lockStates,
      downloads: downloads.list(),
      handoverComplete,
      commits: { ...commitMap },
      ...(supervisorNetwork === undefined ? {} : { supervisorNetwork }),
    });
  }

  /** Whether the managed supervisor network exists (one inspect until it has been seen once). */
  private async supervisorNetworkPresent(): Promise<boolean | undefined> {
    const name = this.deps.supervisorNetwork;
    if (name === undefined) return undefined;
    if (this.supervisorNetworkSeen) return true;
    try {
      await this.deps.engine.inspectNetwork(name);
      this.supervisorNetworkSeen = true;
      return true;
    } catch (err) {
      if (isBosunError(err, 'NOT_FOUND')) return false;
      throw err;
    }
  }

  /**
   * Container id → config hash for supervised containers without our hash label, rebuilt from the engine's
   * inspect (already in the listing) and the image's config (one request per image, cached), so the
   * planner adopts them when their config matches the target instead of recreating them.
   */
  private async adoptedConfigHashes(
    infos: readonly ContainerInfo[],
  ): Promise<ReadonlyMap<string, string>> {
    const out = new Map<string, string>();
    const keys = new Set<string>();
    const serviceById = new Map(
      infos.map((c) => [c.id, balenaLabels(c.labels)['io.balena.service-name']]),
    );
    const serviceOf = (id: string): string | undefined =>
      serviceById.get(id) ??
      [...serviceById].find(([full]) => full.startsWith(id) && id.length >= 12)?.[1];
    for (const info of infos) {
      if (info.labels[CONFIG_HASH_LABEL] !== undefined || info.raw === undefined) continue;
      // Restart policy and networks are config the executor may change without recreating.
      const key = [
        info.id,
        info.imageId,
        info.restartPolicy,
        ...Object.keys(info.networks).sort(),
      ].join('|');
      keys.add(key);
      let hash = this.adoptedHashes.get(key);
      if (hash === undefined) {
        const image = await this.imageConfig(info.imageId);
        if (image === undefined) continue;
        hash = configHashFromInspect(info.raw, image, serviceOf);
        this.adoptedHashes.set(key, hash);
        this.deps.logger.info('observe.container-adopted', { id: info.id, name: info.name, hash });
      }
      out.set(info.id, hash);
    }
    for (const key of this.adoptedHashes.keys()) if (!keys.has(key)) this.adoptedHashes.delete(key);
    const images = new Set(infos.map((c) => c.imageId));
    for (const id of this.imageConfigs.keys()) if (!images.has(id)) this.imageConfigs.delete(id);
    return out;
  }

  private async imageConfig(imageId: string): Promise<ImageConfigInspect | undefined> {
    const cached = this.imageConfigs.get(imageId);
    if (cached !== undefined) return cached;
    try {
      const config = await this.deps.engine.inspectImageConfig(imageId);
      this.imageConfigs.set(imageId, config);
      return config;
    } catch (err) {
      // Any other failure fails the round: an unhashed container would be recreated for a passing glitch.
      if (!isBosunError(err, 'NOT_FOUND')) throw err;
      // The image is gone: the container cannot be compared, so it is left unhashed (recreated).
      this.deps.logger.warn('observe.image-config-unavailable', {
        imageId,
        error: errorMessage(err),
      });
      return undefined;
    }
  }

  private containers(
    infos: readonly ContainerInfo[],
    adopted: ReadonlyMap<string, string>,
  ): ContainerState[] {
    const out: ContainerState[] = [];
    for (const info of infos) {
      const labels = balenaLabels(info.labels);
      if (!SUPERVISED.some((l) => info.labels[l] !== undefined)) continue;
      const parsed = toContainerState(info, labels, adopted.get(info.id));
      if (parsed === undefined) {
        // A supervised container we cannot identify is left alone rather than guessed at.
        this.deps.logger.warn('observe.container-unparseable', { id: info.id, name: info.name });
        continue;
      }
      out.push(parsed);
    }
    return out;
  }
}

/**
 * Legacy `io.resin.*` labels read as `io.balena.*`; an explicit `io.balena.*` wins (docs/protocol.md#labels).
 */
export function balenaLabels(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels))
    if (key.startsWith('io.resin.')) out[key.replaceAll('resin', 'balena')] = value;
  for (const [key, value] of Object.entries(labels))
    if (!key.startsWith('io.resin.')) out[key] = value;
  return out;
}

/** `adoptedHash`: the hash rebuilt from the inspect when the container lacks our hash label. */
export function toContainerState(
  info: ContainerInfo,
  labels: Record<string, string>,
  adoptedHash?: string,
): ContainerState | undefined {
  const appId = toInt(labels['io.balena.app-id']);
  const serviceId = toInt(labels['io.balena.service-id']);
  const serviceName = labels['io.balena.service-name'];
  const match = CONTAINER_NAME.exec(info.name);
  if (appId === undefined || serviceId === undefined || serviceName === undefined || match === null)
    return undefined;
  return {
    id: info.id,
    name: info.name,
    appId,
    appUuid: labels['io.balena.app-uuid'] ?? '',
    serviceName,
    serviceId,
    imageId: Number(match[2]),
    releaseId: Number(match[3]),
    commit: match[4] ?? '',
    engineImageId: info.imageId,
    configHash: labels[CONFIG_HASH_LABEL] ?? adoptedHash,
    status: info.state,
    health: info.health,
    exitCode: info.exitCode,
    createdAt: info.createdAt,
    startedAt: info.startedAt,
    networks: Object.keys(info.networks),
    volumes: info.mounts
      .filter((m) => m.type === 'volume' && m.name !== undefined)
      .map((m) => m.name as string),
    handoverOld: info.name.startsWith('old_'),
    restartPolicy: info.restartPolicy,
    ...(info.restartCount === undefined ? {} : { restartCount: info.restartCount }),
  };
}

function toImageState(info: ImageInfo): ImageState {
  return {
    id: info.id,
    repoTags: info.repoTags,
    repoDigests: info.repoDigests,
    labels: info.labels,
    createdAt: info.createdAt,
  };
}

/** Networks named `<appUuid>_<name>` (or legacy `<appId>_<name>`) carrying a supervised label. */
export function toNetworkState(info: NetworkInfo): NetworkState[] {
  const labels = balenaLabels(info.labels);
  if (!SUPERVISED.some((l) => info.labels[l] !== undefined)) return [];
  const separator = info.name.indexOf('_');
  if (separator <= 0) return [];
  const prefix = info.name.slice(0, separator);
  const legacyAppId = /^\d+$/.test(prefix) ? Number(prefix) : undefined;
  return [
    {
      id: info.id,
      engineName: info.name,
      appUuid: legacyAppId === undefined ? prefix : (labels['io.balena.app-uuid'] ?? ''),
      appId: legacyAppId ?? toInt(labels['io.balena.app-id']),
      configHash: labels[CONFIG_HASH_LABEL],
      labels: info.labels,
    },
  ];
}

/** Every volume named `<appId>_<name>`; anonymous and unmanaged volumes are not ours. */
export function toVolumeState(info: VolumeInfo): VolumeState[] {
  const match = VOLUME_NAME.exec(info.name);
  if (match === null) return [];
  const labels = balenaLabels(info.labels);
  return [
    {
      engineName: info.name,
      appId: Number(match[1]),
      appUuid: labels['io.balena.app-uuid'],
      configHash: labels[CONFIG_HASH_LABEL],
      labels: info.labels,
    },
  ];
}

function toInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^-?\d+$/.test(value.trim())) return undefined;
  return Number(value);
}

/** Inspects at once, as the engine adapter bounds its own: a big device does not flood the engine. */
const INSPECT_CONCURRENCY = 8;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
