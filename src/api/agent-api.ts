/**
 * AgentApi: the one facade the local HTTP API talks to. The API never reaches the store, the engine or
 * the reconciler directly; it asks this interface and renders the answers into balena's wire shapes.
 * Implemented by src/agent/agent.ts. Methods throw BosunError (NOT_FOUND, UPDATES_LOCKED, NOT_IN_LOCAL_MODE,
 * VALIDATION_FAILED, …); the API maps codes to HTTP statuses through the error registry.
 */
import type { Readable } from 'node:stream';
import type { JournalLogsBody, LocalTargetBody } from './schemas.js';
import type { BosunError } from '../shared/errors.js';

export type { JournalLogsBody, LocalTargetBody };

/** What a valid API key may reach: the whole device, or one app (keys injected into its containers). */
export type KeyScope = { kind: 'global' } | { kind: 'app'; appId: number };

export interface ServiceView {
  serviceName: string;
  serviceId: number;
  imageId: number;
  releaseId: number;
  commit: string;
  /** Undefined while the service has no container (downloading, or not created yet). */
  containerId: string | undefined;
  /** balena status words: Running, Installing, Downloading, Downloaded, Stopped, Exited, Handing over, … */
  status: string;
  createdAt: string | undefined;
  /** Image reference the service runs (target image, or the container's image when not in the target). */
  image: string;
  /** 0..100 while downloading, otherwise null. */
  downloadProgress: number | null;
}

/** Health-gated rollback, as the status shows it (the reconciler's ReleaseCheckView, structurally). */
export interface ReleaseCheckView {
  failed?: {
    commit: string;
    reason: string;
    service: string | undefined;
    cause: 'unhealthy' | 'crashLoop' | 'notRunning';
    at: number;
    rolledBackTo: string | undefined;
  };
  watching?: { commit: string; until: number };
}

export interface AppView {
  appId: number;
  appUuid: string;
  name: string;
  /** Commit the app fully runs (from the store), else the target commit, else undefined. */
  commit: string | undefined;
  /** balena update status: done, downloading, downloaded, applying changes, aborted, rejected. */
  updateStatus: string;
  services: ServiceView[];
  /** Health-gated rollback: this app's release check, when there is one. */
  releaseCheck?: ReleaseCheckView;
}

export interface ImageView {
  name: string;
  appId: number;
  serviceName: string;
  imageId: number;
  dockerImageId: string | null;
  /** Downloading, Downloaded, Deleting */
  status: string;
  downloadProgress: number | null;
}

/**
 * An immutable view derived from the reconciler's in-memory snapshot. Reading it never touches the
 * engine or the store, which is what keeps status endpoints fast during an apply.
 */
export interface StatusView {
  /** True while the reconciler is applying (plan not empty or blockers present). */
  applying: boolean;
  apps: AppView[];
  images: ImageView[];
}

/**
 * The cloud link of a managed device, as its status shows it: the target poll is the heartbeat
 * (docs/protocol.md#health), the TCP connectivity check (docs/protocol.md#connectivity) says whether the cloud's address answers at all.
 * Times are epoch ms; a device that cannot reach the cloud keeps running its stored target.
 */
export interface CloudConnectivity {
  endpoint: string;
  /** False until provisioning finished (no polls before that). */
  provisioned: boolean;
  /** Whether the last poll got an answer; null before the first poll since the agent started. */
  reachable: boolean | null;
  lastSuccessfulPollAt: number | null;
  /** Start of the current run of failed polls; null while polls succeed. */
  offlineSince: number | null;
  /** Why the last poll failed; null after a successful one. */
  lastError: string | null;
  /** The connectivity check: `off` with SUPERVISOR_CONNECTIVITY_CHECK=false, `unknown` before its first try. */
  connectivityCheck: 'connected' | 'disconnected' | 'unknown' | 'off';
}

export interface HealthReport {
  healthy: boolean;
  /** Why not healthy; empty when healthy. */
  reasons: string[];
}

export interface DeviceSummary {
  apiPort: number;
  ipAddresses: string[];
  macAddresses: string[];
  osVersion: string | undefined;
  agentVersion: string;
}

export interface DeviceInfo {
  arch: string;
  deviceType: string;
}

export interface DeviceTag {
  id: number | undefined;
  name: string;
  value: string;
}

export interface ProxyConfig {
  type: 'socks4' | 'socks5' | 'http-connect' | 'http-relay';
  ip: string;
  port: number;
  login?: string | undefined;
  password?: string | undefined;
  noProxy?: string[] | undefined;
  dns?: string | boolean | undefined;
}

export interface HostConfig {
  network: { hostname: string; proxy?: ProxyConfig | undefined };
}

/** A host-config change; `proxy: {}` removes the proxy, an empty hostname resets it. */
export interface HostConfigPatch {
  network?: { hostname?: string | undefined; proxy?: Partial<ProxyConfig> | undefined } | undefined;
}

/** The local (v2) target state as balena-cli reads it back: only `name` and `config` are reused by the CLI. */
export interface LocalTargetView {
  name: string;
  config: Record<string, string>;
  apps: Record<string, LocalAppSummary>;
}

export interface LocalAppSummary {
  name: string;
  commit: string | undefined;
  releaseId: number | undefined;
  services: Record<
    string,
    { serviceName: string; serviceId: number; imageId: number; image: string; running: boolean }
  >;
}

export interface ActionOptions {
  /** Override user-held update locks. */
  force: boolean;
}

/** Which service of an app an action targets: by name, or by (legacy) image id. */
export interface ServiceSelector {
  serviceName?: string | undefined;
  imageId?: number | undefined;
}

export type ServiceAction = 'restart' | 'stop' | 'start';
export type HostAction = 'reboot' | 'shutdown';

export interface AgentApi {
  // ── health and identity
  health(): Promise<HealthReport>;
  /** bosun's own version (package.json); the API maps it to a CLI-compatible supervisor version. */
  version(): string;
  deviceSummary(): Promise<DeviceSummary>;
  deviceInfo(): Promise<DeviceInfo>;
  deviceName(): string;
  isLocalMode(): boolean;

  // ── keys
  /** The scope of a presented key, or undefined when it is unknown. Must compare in constant time. */
  resolveApiKey(key: string): Promise<KeyScope | undefined>;
  /** Replaces `key` by a fresh one with the same scope; returns the new key. */
  regenerateApiKey(key: string): Promise<string>;

  // ── status (in-memory, synchronous)
  status(): StatusView;
  /** The cloud link (undefined on an unmanaged device or one pinned to local mode). */
  cloudConnectivity(): CloudConnectivity | undefined;
  /** Container environment and engine image of a container, for the legacy GET /v1/apps/:appId. */
  containerDetails(
    containerId: string,
  ): Promise<{ env: Record<string, string>; engineImageId: string }>;

  // ── target
  localTarget(): Promise<LocalTargetView>;
  /**
   * Stores a (schema-checked) v2 local target with source `local` and triggers an apply. Throws
   * NOT_IN_LOCAL_MODE outside local mode and VALIDATION_FAILED (with the JSON path) when normalisation
   * rejects it; nothing is stored then.
   */
  setLocalTarget(body: LocalTargetBody, options: ActionOptions): Promise<void>;
  /** A pushed target was refused (its body failed validation): logged, and said as a system line. */
  targetRefused(error: BosunError): void;
  /** Ask the cloud for a new target; `triggered` false means the request was ignored (instant updates off). */
  triggerUpdate(options: { force: boolean; cancel: boolean }): Promise<{ triggered: boolean }>;

  // ── actions (through the reconciler as intermediate targets)
  restartApp(appId: number, options: ActionOptions): Promise<void>;
  purgeApp(appId: number, options: ActionOptions): Promise<void>;
  /** Returns the container id of the service after the action (undefined if none). */
  serviceAction(
    appId: number,
    action: ServiceAction,
    selector: ServiceSelector,
    options: ActionOptions,
  ): Promise<{ containerId: string | undefined }>;
  /** Checks locks (423 unless forced), then schedules the host action; resolves before the host acts. */
  hostAction(action: HostAction, options: ActionOptions): Promise<void>;
  blink(): Promise<void>;
  /** Removes engine volumes no container mounts and no in-scope target app references. */
  cleanupVolumes(scope: KeyScope): Promise<{ removed: string[] }>;

  // ── device
  tags(): Promise<DeviceTag[]>;
  setTags(tags: Record<string, string>): Promise<void>;
  vpnStatus(): Promise<{ enabled: boolean; connected: boolean }>;
  hostConfig(): Promise<HostConfig>;
  /** The host journal (journalctl output) as a stream; ends, or is killed when `signal` aborts. */
  journalLogs(options: JournalLogsBody, signal: AbortSignal): Readable;
  patchHostConfig(patch: HostConfigPatch, options: ActionOptions): Promise<void>;
}
