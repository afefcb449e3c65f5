/**
 * The store's ports: what the reconciler, the cloud binding and the API may ask of persistent state.
 * Callers depend on these interfaces, never on knex or rows; `openStore` returns the SQLite-backed
 * implementations. Every method rejects with BosunError STORE_ERROR when SQLite fails, so callers
 * never see driver errors.
 */

export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

// ───────────────────────────── target state ─────────────────────────────

/**
 * Where a target came from. Each origin keeps its own last target, so leaving local mode falls back
 * to the cloud's last target instead of to whatever a developer pushed.
 */
export type TargetOrigin =
  { readonly kind: 'local' } | { readonly kind: 'cloud'; readonly endpoint: string };

/** The last accepted target of one origin, as received (raw v3 app documents, not normalised). */
export interface StoredTarget {
  /** Device name. */
  readonly name: string;
  /** Config vars exactly as received (prefixes resolved later by the config module). */
  readonly config: Readonly<Record<string, string>>;
  /** Raw target app documents keyed by app uuid. */
  readonly apps: Readonly<Record<string, JsonObject>>;
}

export interface TargetStateRepository {
  /**
   * Replaces the origin's whole target in one transaction: device name and config, every app of the
   * target, and deletion of that origin's apps missing from it. A crash leaves either the old target
   * or the new one, never a mix.
   */
  save(origin: TargetOrigin, target: StoredTarget): Promise<void>;
  /** The origin's last saved target, whole; undefined when none was ever saved for it. */
  load(origin: TargetOrigin): Promise<StoredTarget | undefined>;
  /** Whether any target was ever saved (upstream `targetStateSet`), for any origin unless one is given. */
  isSet(origin?: TargetOrigin): Promise<boolean>;
  /** Forgets the origin's target entirely (e.g. the local target when leaving local mode). */
  clear(origin: TargetOrigin): Promise<void>;
}

// ───────────────────────────── images ─────────────────────────────

/** An image bosun pulled for a service. Clean-up only ever removes images recorded here. */
export interface SupervisedImage {
  /** Normalised image reference as pulled. */
  readonly name: string;
  /** Engine image id (sha256:…); undefined until the pull finished. */
  readonly engineId: string | undefined;
  readonly appUuid: string;
  readonly serviceName: string;
  readonly commit: string;
}

/** Identity of a supervised image record: the same image may serve several services or releases. */
export type SupervisedImageKey = Pick<
  SupervisedImage,
  'name' | 'appUuid' | 'serviceName' | 'commit'
>;

export interface ImageRepository {
  /** Inserts the record, or updates its engine id when it exists. */
  record(image: SupervisedImage): Promise<void>;
  list(): Promise<SupervisedImage[]>;
  /** Removes one record; a missing record is not an error. */
  remove(key: SupervisedImageKey): Promise<void>;
  /** Whether any record points at this engine image id: only those may be removed by clean-up. */
  isSupervised(engineId: string): Promise<boolean>;
}

// ───────────────────────────── current commit ─────────────────────────────

/** The commit each app was last fully applied at, by app uuid. */
export interface CommitRepository {
  get(appUuid: string): Promise<string | undefined>;
  set(appUuid: string, commit: string): Promise<void>;
  all(): Promise<Record<string, string>>;
  remove(appUuid: string): Promise<void>;
}

// ───────────────────────────── API keys ─────────────────────────────

export type ApiKeyScope =
  { readonly type: 'global' } | { readonly type: 'app'; readonly appId: number };

export interface ApiKey {
  /** 32 lowercase hex characters. */
  readonly key: string;
  /** 0 for the device-wide key. */
  readonly appId: number;
  /** Undefined for the device-wide key. */
  readonly serviceName: string | undefined;
  readonly scopes: readonly ApiKeyScope[];
}

export interface ApiKeyRepository {
  /** The device-wide key (scope `global`), created on first use. */
  globalKey(): Promise<string>;
  /** The key injected into one service of one app (scope `app`), created on first use. */
  appKey(appId: number, serviceName: string): Promise<string>;
  /** The key of one service of one app if it exists, never creating one (the plan preview). */
  peekAppKey(appId: number, serviceName: string): Promise<string | undefined>;
  /** What a presented key is allowed to do; undefined when the key is unknown. */
  find(key: string): Promise<ApiKey | undefined>;
  /** Replaces a key by a fresh one with the same owner and scopes; undefined when the key is unknown. */
  regenerate(key: string): Promise<string | undefined>;
  /** Deletes the app-scoped keys of an app that is gone. */
  removeAppKeys(appId: number): Promise<void>;
  /** Ids of the apps that hold app-scoped keys (the device-wide key's 0 excluded). */
  appIdsWithKeys(): Promise<number[]>;
}

// ───────────────────────────── DB-sourced settings ─────────────────────────────

/** Settings that live in the database rather than config.json. Add a key here and in db-config-schema.ts. */
export interface DbConfigValues {
  /** Local mode as last set by a config var or the API (the agent's env var may override it). */
  localMode: boolean;
  /** The API endpoint the initial device config was reported to ('' = never). */
  initialConfigReported: string;
  /** Whether the device's config at first boot was saved as its target (so first boot reverts nothing). */
  initialConfigSaved: boolean;
  /** Device name as last applied. */
  name: string;
}

export type DbConfigKey = keyof DbConfigValues;

export interface DbConfigRepository {
  get<K extends DbConfigKey>(key: K): Promise<DbConfigValues[K] | undefined>;
  set<K extends DbConfigKey>(key: K, value: DbConfigValues[K]): Promise<void>;
  remove(key: DbConfigKey): Promise<void>;
}

// ───────────────────────────── engine snapshot ─────────────────────────────

/** Engine objects present when local mode was entered; what appeared since is removed on leaving. */
export interface EngineSnapshot {
  readonly containers: readonly string[];
  readonly images: readonly string[];
  readonly volumes: readonly string[];
  readonly networks: readonly string[];
}

export interface EngineSnapshotRepository {
  /** Replaces any previous snapshot. */
  save(snapshot: EngineSnapshot, takenAt: Date): Promise<void>;
  load(): Promise<{ snapshot: EngineSnapshot; takenAt: Date } | undefined>;
  clear(): Promise<void>;
}

// ───────────────────────────── release guard (health-gated rollback) ─────────────────────────────

/** A release of one app, identified by its commit and the hash of its raw target document. */
export interface GuardedRelease {
  readonly appUuid: string;
  readonly commit: string;
  readonly docHash: string;
}

/** The last release of an app that stayed healthy through its confirmation window. */
export interface ConfirmedReleaseRecord extends GuardedRelease {
  /** The raw target app document, to go back to. */
  readonly document: JsonObject;
  /** Its normalised image references: kept on the engine until a successor is confirmed. */
  readonly images: readonly string[];
  readonly at: number;
}

/** The last release of an app that failed its confirmation window. */
export interface FailedReleaseRecord extends GuardedRelease {
  readonly reason: string;
  readonly service: string | undefined;
  readonly cause: 'unhealthy' | 'crashLoop' | 'notRunning';
  readonly at: number;
}

/** The release being watched now. */
export interface WatchedReleaseRecord extends GuardedRelease {
  readonly startedAt: number;
  readonly deadline: number;
  /** Container id → its engine restart count when first seen in the window. */
  readonly restarts: Readonly<Record<string, number>>;
  /** Failed runs seen (`<container id>@<startedAt>`), per service. */
  readonly exits: Readonly<Record<string, readonly string[]>>;
}

export interface ReleaseGuardState {
  readonly confirmed: readonly ConfirmedReleaseRecord[];
  readonly failed: readonly FailedReleaseRecord[];
  readonly watching: readonly WatchedReleaseRecord[];
}

export type ReleaseGuardRole = 'confirmed' | 'failed' | 'watching';

export interface ReleaseGuardRepository {
  load(): Promise<ReleaseGuardState>;
  /** Starts or updates the app's watch. */
  watch(record: WatchedReleaseRecord): Promise<void>;
  /** In one transaction: the app's confirmed release is replaced, its watch and failure forgotten. */
  confirm(record: ConfirmedReleaseRecord): Promise<void>;
  /** In one transaction: the app's failure is recorded, its watch ends. */
  fail(record: FailedReleaseRecord): Promise<void>;
  /** Forgets the given roles of an app (all when none given). */
  forget(appUuid: string, roles?: readonly ReleaseGuardRole[]): Promise<void>;
}

// ───────────────────────────── the whole store ─────────────────────────────

export interface Store {
  readonly targets: TargetStateRepository;
  readonly images: ImageRepository;
  readonly commits: CommitRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly config: DbConfigRepository;
  readonly engineSnapshots: EngineSnapshotRepository;
  readonly releases: ReleaseGuardRepository;
  /** Throws when a durable write fails (read-only or full file system, I/O error). */
  probeWrite(): Promise<void>;
  /** Undefined while the database path still names the open file; else says it was deleted or replaced. */
  fileProblem(): Promise<string | undefined>;
  /** Closes the database (checkpointing the WAL); the store must not be used afterwards. */
  close(): Promise<void>;
}
