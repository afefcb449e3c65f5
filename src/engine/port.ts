/**
 * The EngineAdapter port: everything bosun asks of a Docker-compatible container engine.
 * Implementations: DockerEngine (dockerode, the real thing) and FakeEngine (in memory, for planner
 * simulation). Both must pass test/contract/engine.contract.ts. Library errors never cross this
 * boundary: implementations throw BosunError with ENGINE_UNREACHABLE, NOT_FOUND, CONFLICT,
 * REGISTRY_AUTH, IMAGE_PULL_FAILED, CANCELLED or ENGINE_ERROR.
 */
import type { EventFeed } from '../shared/event-feed.js';
import type {
  ContainerCreateSpec,
  NetworkCreateSpec,
  VolumeCreateSpec,
} from '../domain/container-spec.js';
import type { ContainerInspect, ImageConfigInspect } from '../domain/adoption.js';

export interface ContainerInfo {
  id: string;
  /** Without the leading slash. */
  name: string;
  /** Engine image id (sha256:…). */
  imageId: string;
  /** The image reference the container was created from (Config.Image). */
  image: string;
  labels: Record<string, string>;
  env: string[];
  state: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
  health: 'none' | 'starting' | 'healthy' | 'unhealthy';
  exitCode: number | undefined;
  error: string | undefined;
  createdAt: string;
  startedAt: string | undefined;
  finishedAt: string | undefined;
  restartPolicy: string;
  /** Times the engine restarted the container under its restart policy. */
  restartCount?: number;
  /** Engine network name → endpoint (aliases as the engine reports them). */
  networks: Record<string, { networkId: string; aliases: string[]; ipAddress: string | undefined }>;
  mounts: Array<{ type: string; name: string | undefined; source: string; destination: string }>;
  /**
   * The engine's own inspect (Config, HostConfig, NetworkSettings), kept so that containers made without
   * bosun's config-hash label (by balena-supervisor) can be adopted without another request.
   */
  raw?: ContainerInspect;
}

/**
 * A container as the engine's list shows it (no inspect): enough to tell whether a held inspect is still
 * right. `health` is read from the list's status text, undefined when it shows none.
 */
export interface ContainerSummary {
  id: string;
  /** Without the leading slash. */
  name: string;
  state: ContainerInfo['state'];
  health: ContainerInfo['health'];
  labels: Record<string, string>;
}

export interface EngineStorageInfo {
  dataRoot: string;
  insecureRegistries: string[];
}

export interface ImageInfo {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  labels: Record<string, string>;
  createdAt: string;
  size: number;
}

export interface NetworkInfo {
  id: string;
  name: string;
  driver: string;
  labels: Record<string, string>;
  internal: boolean;
  enableIPv6: boolean;
  configOnly: boolean;
  options: Record<string, string>;
  ipam: { driver: string; config: Array<{ subnet?: string; gateway?: string; ipRange?: string }> };
  /** Container ids attached. */
  containers: string[];
}

export interface VolumeInfo {
  name: string;
  driver: string;
  labels: Record<string, string>;
  mountpoint: string;
  options: Record<string, string>;
}

export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

/** Per-layer pull progress; `downloadedBytes/totalBytes` sum over layers the registry has sized. */
export interface PullProgress {
  image: string;
  layers: Record<string, { status: string; current: number; total: number }>;
  downloadedBytes: number;
  totalBytes: number;
  /** 0..100 over known layer sizes, undefined until the first size is known. */
  percent: number | undefined;
}

export interface PullOptions {
  auth?: RegistryAuth;
  signal?: AbortSignal;
  onProgress?: (progress: PullProgress) => void;
}

/** One line of a container's output, as the engine stored it. */
export interface ContainerLogLine {
  stream: 'stdout' | 'stderr';
  /** Without the trailing newline. */
  line: string;
  /** The engine's RFC 3339 timestamp with nanoseconds, kept as text: ordering and resume need the nanoseconds. */
  timestamp: string;
}

export interface ContainerLogsOptions {
  /** Only lines at or after this engine timestamp (inclusive, as the engine does; callers de-duplicate). */
  since?: string;
  /** Keep the stream open for new lines until the container stops, the engine goes away or `signal` aborts. */
  follow?: boolean;
  signal?: AbortSignal;
}

export type EngineEvent =
  | {
      type: 'container';
      action: string; // create, start, die, destroy, health_status: healthy, rename, stop, kill, …
      id: string;
      name: string | undefined;
      labels: Record<string, string>;
      time: number;
      /** `die` events: the process's exit status (137 = killed by SIGKILL, e.g. after a stop timeout). */
      exitCode?: number;
      /** `kill` events: the signal sent, as a number in text (`15`, `9`). */
      signal?: string;
    }
  | { type: 'image' | 'network' | 'volume'; action: string; id: string; time: number }
  /** The event stream reconnected after losing the engine: consumers should re-observe. */
  | { type: 'reconnected'; time: number }
  | { type: 'disconnected'; time: number; reason: string };

export interface EngineAdapter {
  /** Resolves when the engine answers; throws ENGINE_UNREACHABLE otherwise. */
  ping(): Promise<void>;
  version(): Promise<{ version: string; apiVersion: string; arch: string; os: string }>;
  /**
   * Where the engine keeps images and containers (`DockerRootDir`, the disk preflight reads its free
   * space) and the registries it pulls from over plain HTTP (`host[:port]`; loopback ones always are).
   */
  storageInfo(): Promise<EngineStorageInfo>;

  listContainers(filter?: { labels?: string[] }): Promise<ContainerInfo[]>;
  /** One request: the list alone, without inspecting each container. */
  listContainerSummaries(filter?: { labels?: string[] }): Promise<ContainerSummary[]>;
  inspectContainer(idOrName: string): Promise<ContainerInfo>;
  createContainer(spec: ContainerCreateSpec): Promise<{ id: string }>;
  /** Starting a running container is not an error. `id` may also be the container's name. */
  startContainer(id: string): Promise<void>;
  /** Stops with SIGTERM, then SIGKILL after `timeoutSec`. Stopping a stopped container is not an error. */
  stopContainer(id: string, options?: { timeoutSec?: number; signal?: AbortSignal }): Promise<void>;
  killContainer(id: string, signal?: string): Promise<void>;
  /** CONFLICT when it runs and `force` is not set. */
  removeContainer(
    id: string,
    options?: { force?: boolean; removeVolumes?: boolean },
  ): Promise<void>;
  renameContainer(id: string, newName: string): Promise<void>;
  updateRestartPolicy(
    id: string,
    policy: 'no' | 'always' | 'on-failure' | 'unless-stopped',
  ): Promise<void>;
  connectNetwork(
    network: string,
    containerId: string,
    endpoint?: { aliases?: string[]; ipv4Address?: string; ipv6Address?: string },
  ): Promise<void>;
  disconnectNetwork(network: string, containerId: string, force?: boolean): Promise<void>;

  /**
   * Pulls `reference` (`:latest` when it names no tag or digest). REGISTRY_AUTH when the registry refuses
   * the credentials, CANCELLED when `signal` aborts (the download stops; the image is not left behind),
   * IMAGE_PULL_FAILED for anything else the registry or network does (unknown image included).
   */
  pullImage(reference: string, options?: PullOptions): Promise<ImageInfo>;
  listImages(): Promise<ImageInfo[]>;
  inspectImage(reference: string): Promise<ImageInfo>;
  /** The image's layers as diff ids (`RootFS.Layers`, base first), to count present layers as free. */
  imageLayers(reference: string): Promise<string[]>;
  /** The image's `Config`: what its containers inherit (env, labels, cmd…), for adoption. */
  inspectImageConfig(reference: string): Promise<ImageConfigInspect>;
  tagImage(reference: string, repo: string, tag: string): Promise<void>;
  /** CONFLICT when a container uses it and `force` is not set. */
  removeImage(reference: string, options?: { force?: boolean }): Promise<void>;

  /**
   * `attached: false` skips the inspect of each listed network (one request instead of 1 + n); the
   * networks' `containers` are then empty, as the engine's list leaves them.
   */
  listNetworks(filter?: { labels?: string[]; attached?: boolean }): Promise<NetworkInfo[]>;
  inspectNetwork(idOrName: string): Promise<NetworkInfo>;
  createNetwork(spec: NetworkCreateSpec): Promise<{ id: string }>;
  /** CONFLICT while a container is attached. */
  removeNetwork(idOrName: string): Promise<void>;

  listVolumes(filter?: { labels?: string[] }): Promise<VolumeInfo[]>;
  inspectVolume(name: string): Promise<VolumeInfo>;
  createVolume(spec: VolumeCreateSpec): Promise<VolumeInfo>;
  /** CONFLICT while a container (running or not) mounts it. */
  removeVolume(name: string): Promise<void>;

  /**
   * A container's stored and (with `follow`) live output, demultiplexed when the container has no TTY.
   * Ends when the container stops or the engine connection drops; aborting `signal` ends it quietly.
   */
  containerLogs(id: string, options?: ContainerLogsOptions): AsyncIterable<ContainerLogLine>;

  /**
   * Engine events, hot and shared. Survives engine restarts: on reconnect emits `reconnected` so
   * consumers re-observe instead of trusting events they may have missed.
   */
  events(): EventFeed<EngineEvent>;
  /** Ends the event stream and any open connections. */
  close(): Promise<void>;
}
