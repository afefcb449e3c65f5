import type { UpdateWindow } from '../domain/update-window.js';

/**
 * Everything plan() needs besides the target and the observed state. The reconciler fills it each
 * round; the planner never reads a clock or a store itself, so the same inputs always give the same plan.
 */
import type { SupervisorNetworkSpec } from '../domain/context.js';

/** Work the reconciler backs off from after failures; the planner turns it into a `backoff` blocker. */
export interface BackoffEntry {
  /**
   * What is backed off: a step id (e.g. `startContainer:<appUuid>:<service>:<name>`), a service
   * (`<appUuid>/<serviceName>`), or a whole app (`<appUuid>`). Only matching work waits.
   */
  key: string;
  /** Epoch ms until which the work waits. */
  until: number;
  /** The last error, for the blocker and the status report. */
  error: string;
}

/** An image whose download failed recently: its pull waits until `until`. */
export interface FailedPull {
  image: string;
  until: number;
  error: string;
}

/**
 * A `takeLock` the engine host refused because a user holds an update lock (UPDATES_LOCKED): the app's
 * lock-taking waits, as a `locked` blocker, while its user locks are exactly as they were then
 * (`userLocks`, see userLockSignature). Not a failure to back off from: the wait ends when they change.
 */
export interface LockWait {
  appId: number;
  userLocks: string;
}

/**
 * What the disk preflight knows, measured by the reconciler before planning (statfs of the engine's data
 * root, registry manifests). Undefined in the context when the free space cannot be known: no preflight.
 */
export interface StorageFacts {
  /** Bytes free on the engine's data root now (what an unprivileged writer may use). */
  freeBytes: number;
  /** Bytes a download must leave free (config var SUPERVISOR_DISK_RESERVE). */
  reserveBytes: number;
  /**
   * Estimated bytes each image reference still needs on disk to download (its layers the engine lacks;
   * see storage-estimate in the reconciler). A reference not listed has no estimate and is not counted.
   */
  needBytes: Readonly<Record<string, number>>;
  /** Bytes removing each engine image (by id) gives back: only layers no other image shares. */
  freedBytes: Readonly<Record<string, number>>;
}

export interface PlanContext {
  /** Epoch ms of this round (never Date.now() inside the planner). */
  now: number;
  /** The request asked to override update locks (e.g. `POST /v1/update {force: true}`). */
  force: boolean;
  /** Config var SUPERVISOR_OVERRIDE_LOCK: always override update locks. */
  lockOverride: boolean;
  /** Never remove images (local mode, intermediate targets). */
  keepImages: boolean;
  /** Never remove volumes, even of removed apps (local mode). */
  keepVolumes: boolean;
  backoffs: readonly BackoffEntry[];
  failedPulls: readonly FailedPull[];
  lockWaits: readonly LockWait[];
  /**
   * Images the agent itself pulled (engine ids or references). Only these are clean-up candidates:
   * images someone else put on the engine are never removed.
   */
  pulledImages: readonly string[];
  /** Engine image id of target image references, when the store knows it (else derived from tags/digests). */
  targetImageIds: Readonly<Record<string, string>>;
  /**
   * Image references clean-up must keep although the target no longer uses them: the last confirmed
   * release of each app, until its successor is confirmed, so a rollback needs no download.
   */
  protectedImages: readonly string[];
  /**
   * Epoch ms of the last boot, to honour `requiresReboot`: such a service's container created after this
   * boot is not started (a `rebootRequired` blocker asks the reconciler to reboot). Undefined disables it.
   */
  bootTime: number | undefined;
  /** Disk preflight inputs; undefined disables the preflight (free space unknown). */
  storage: StorageFacts | undefined;
  /** The supervisor network to create when the observation says it is missing; undefined: not managed. */
  supervisorNetwork: SupervisorNetworkSpec | undefined;
  /**
   * Config var SUPERVISOR_UPDATE_WINDOW (with its zone): disruptive steps run only inside it, unless
   * forced. When undefined, disruptive steps may run whenever (so for user actions, which are explicit requests).
   */
  updateWindow: UpdateWindow | undefined;
}

/** A context with safe defaults (nothing forced, nothing kept, nothing backed off) for `now`. */
export function planContext(now: number, overrides: Partial<PlanContext> = {}): PlanContext {
  return {
    now,
    force: false,
    lockOverride: false,
    keepImages: false,
    keepVolumes: false,
    backoffs: [],
    failedPulls: [],
    lockWaits: [],
    pulledImages: [],
    targetImageIds: {},
    protectedImages: [],
    bootTime: undefined,
    storage: undefined,
    supervisorNetwork: undefined,
    updateWindow: undefined,
    ...overrides,
  };
}
