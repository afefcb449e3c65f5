/**
 * The domain model shared by normalisation, the planner, the executor and the observer.
 * Target values are fully normalised (every default spelled out, every engine name computed) so the
 * planner never has to know compose syntax; current values are immutable snapshots of the engine.
 */
import type { ContainerCreateSpec, NetworkCreateSpec, VolumeCreateSpec } from './container-spec.js';

export type UpdateStrategy =
  'download-then-kill' | 'kill-then-download' | 'delete-then-download' | 'hand-over';
export type DependencyCondition =
  'service_started' | 'service_healthy' | 'service_completed_successfully';
export type AppClass = 'fleet' | 'app' | 'block';
/** Where a target app came from: the cloud (by API endpoint) or a developer in local mode. */
export type TargetSource = 'cloud' | 'local';

// ───────────────────────────── target ─────────────────────────────

export interface TargetState {
  /** Device name. */
  name: string;
  /** Config vars, names as given (prefixes resolved later by the config module). */
  config: Record<string, string>;
  /** Keyed by app uuid. */
  apps: Record<string, AppTarget>;
}

export interface AppTarget {
  uuid: string;
  /** Numeric id (deprecated upstream, still used for volume names and lock paths). */
  appId: number;
  name: string;
  class: AppClass;
  isHost: boolean;
  source: TargetSource;
  /** Absent when the fleet has no release yet: the app's services and networks are then removed. */
  release?: ReleaseTarget;
}

export interface ReleaseTarget {
  commit: string;
  releaseId: number;
  /** Keyed by service name. */
  services: Record<string, ServiceTarget>;
  /** Keyed by logical network name (always includes `default`). */
  networks: Record<string, NetworkTarget>;
  /** Keyed by logical volume name. */
  volumes: Record<string, VolumeTarget>;
}

export interface ServiceTarget {
  serviceName: string;
  serviceId: number;
  imageId: number;
  /** Normalised image reference (`registry/repo:tag` or `registry/repo@digest`). */
  image: string;
  running: boolean;
  /** Services this one waits for, with the condition each must meet first. */
  dependsOn: Record<string, DependencyCondition>;
  updateStrategy: UpdateStrategy;
  handoverTimeoutMs: number;
  /** Stop timeout given to the engine (compose stop_grace_period), seconds. */
  stopTimeoutSec: number;
  /** `host`, `bridge`, `none`, `service:<name>`, or an engine network name. */
  networkMode: string;
  /** Logical names of the app networks this service joins. */
  networks: string[];
  /** Logical names of the app volumes this service mounts. */
  volumes: string[];
  /** Whether this service may only be (re)started after a reboot (label io.balena.update.requires-reboot). */
  requiresReboot: boolean;
  /** `<service>_<imageId>_<releaseId>_<commit>`, compatible with balena-supervisor. */
  containerName: string;
  /** Hash of the normalised config, excluding image identity and release metadata (see config-hash.ts). */
  configHash: string;
  /** The full engine create body (its `Image` is the normalised reference). */
  createSpec: ContainerCreateSpec;
}

export interface NetworkTarget {
  name: string;
  /** `<appUuid>_<name>`. */
  engineName: string;
  configHash: string;
  createSpec: NetworkCreateSpec;
}

export interface VolumeTarget {
  name: string;
  /** `<appId>_<name>`. */
  engineName: string;
  configHash: string;
  createSpec: VolumeCreateSpec;
}

// ───────────────────────────── current ─────────────────────────────

export type ContainerStatus =
  'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
export type HealthStatus = 'none' | 'starting' | 'healthy' | 'unhealthy';

export interface ContainerState {
  id: string;
  /** Engine name without the leading slash. */
  name: string;
  appId: number;
  appUuid: string;
  serviceName: string;
  serviceId: number;
  /** From the name `<service>_<imageId>_<releaseId>_<commit>`. */
  imageId: number;
  releaseId: number;
  commit: string;
  /** Engine image id (sha256:…) the container runs. */
  engineImageId: string;
  /** From our config-hash label, or derived from inspect for containers another agent created. */
  configHash: string | undefined;
  status: ContainerStatus;
  health: HealthStatus;
  exitCode: number | undefined;
  createdAt: string;
  startedAt: string | undefined;
  /** Engine network names the container is attached to. */
  networks: string[];
  /** Engine volume names the container mounts. */
  volumes: string[];
  /** The outgoing container of an interrupted or running hand-over (`old_` name prefix). */
  handoverOld: boolean;
  /** Restart policy name (a hand-over sets it to `no` on the outgoing container). */
  restartPolicy: string;
  /** Times the engine restarted this container (its restart policy); shown on the dashboard. */
  restartCount?: number;
  /**
   * A stop the agent started is still running outside the rounds (a long stop grace period): the
   * planner must not plan it again, and waits for it (`containerStopping`).
   */
  stopping?: boolean;
}

export interface ImageState {
  /** Engine image id (sha256:…). */
  id: string;
  repoTags: string[];
  repoDigests: string[];
  labels: Record<string, string>;
  createdAt: string;
}

export interface NetworkState {
  id: string;
  engineName: string;
  appUuid: string;
  appId: number | undefined;
  configHash: string | undefined;
  labels: Record<string, string>;
}

export interface VolumeState {
  engineName: string;
  appId: number;
  appUuid: string | undefined;
  configHash: string | undefined;
  labels: Record<string, string>;
}

export type LockHolder = 'user' | 'agent';

export interface LockState {
  appId: number;
  serviceName: string;
  heldBy: LockHolder;
  /** When the lock file was written (epoch ms), for "held since 10:42". */
  since?: number;
}

export interface DownloadState {
  image: string;
  /** 0..100, or undefined when the registry has not said the size yet. */
  progress: number | undefined;
}

export interface CurrentState {
  containers: readonly ContainerState[];
  images: readonly ImageState[];
  networks: readonly NetworkState[];
  volumes: readonly VolumeState[];
  locks: readonly LockState[];
  downloads: readonly DownloadState[];
  /** Apps whose services signalled hand-over complete (`/tmp/balena/handover-complete`), by `<appId>/<service>`. */
  handoverComplete: readonly string[];
  /** Last fully applied commit per app uuid (from the store). */
  commits: Readonly<Record<string, string>>;
  /**
   * Whether the supervisor network exists; undefined when the agent does not manage it (the observer
   * was not asked to look), in which case the planner never plans it.
   */
  supervisorNetwork?: boolean;
}
