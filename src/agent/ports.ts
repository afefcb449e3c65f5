/**
 * What the agent facade needs from the rest of bosun. main.ts binds these to the reconciler, the store,
 * the engine, the config module, the cloud binding and the device adapters; the facade depends only on
 * these shapes, never on concrete adapters.
 */
import type { Readable } from 'node:stream';
import type { CloudConnectivity, ProxyConfig } from '../api/agent-api.js';

export type { CloudConnectivity } from '../api/agent-api.js';
import type { CurrentState, TargetState } from '../domain/model.js';
import type { ReconcileStatus } from '../reconciler/status.js';

/** One immutable view of the reconciler: what it last observed, what it aims at, and its status. */
export interface ReconcilerSnapshot {
  readonly status: ReconcileStatus;
  readonly target: TargetState | undefined;
  readonly current: CurrentState | undefined;
}

export interface IntermediateOptions {
  /** Override user-held update locks. */
  force: boolean;
  /** Purge: remove the volumes of apps missing from the intermediate target, even in local mode. */
  removeVolumes?: boolean;
}

export interface ReconcilerPort {
  /** In memory, no I/O: the status endpoints answer from this. A new object whenever anything changed. */
  snapshot(): ReconcilerSnapshot;
  /** Ask for an apply of the stored target soon (coalesced, latest wins). */
  triggerApply(options: { force: boolean }): void;
  /**
   * Drives the engine to `target` (a user action's intermediate target) instead of the stored target, and
   * resolves when it has converged. Rejects with UPDATES_LOCKED when a user lock blocks it and !force,
   * and with the step's error when the apply fails. Actions never go around the reconciler.
   */
  applyIntermediate(target: TargetState, options: IntermediateOptions): Promise<void>;
  /**
   * Services the user stopped through the API stay stopped (reference: until a reboot or a recreate):
   * the reconciler treats them as `running: false` in every target until `false` is given here.
   */
  holdStopped(appUuid: string, serviceName: string, stopped: boolean): void;
  /**
   * Removes volumes bosun manages that no container mounts and no target app uses (one app's, or all
   * when undefined), as a plan the reconciler runs; resolves with the names removed.
   */
  cleanupVolumes(appId: number | undefined): Promise<{ removed: string[] }>;
}

/** Settings the facade reads; a function, so config changes are seen without restarting the API. */
export interface AgentSettings {
  localMode: boolean;
  deviceName: string;
  deviceType: string;
  arch: string;
  apiPort: number;
  /** Config vars of the current target (unprefixed), echoed by GET /v2/local/target-state. */
  configVars: Record<string, string>;
  /** SUPERVISOR_INSTANT_UPDATES: when false, POST /v1/update without force is ignored (202). */
  instantUpdates: boolean;
  /** SUPERVISOR_VPN_CONTROL. */
  vpnEnabled: boolean;
}

/**
 * Reboot and shutdown of the host. Production: logind over D-Bus (org.freedesktop.login1.Manager.Reboot /
 * PowerOff) from src/device/; tests inject an implementation that records the call instead.
 */
export interface HostActions {
  reboot(): Promise<void>;
  shutdown(): Promise<void>;
  /** Blink the identification LED for `durationMs`. */
  blink(durationMs: number): Promise<void>;
}

/** Facts about the host, read on demand (they change rarely and are not on a hot path). */
export interface DeviceFacts {
  ipAddresses(): Promise<string[]>;
  macAddresses(): Promise<string[]>;
  osVersion(): Promise<string | undefined>;
  vpnConnected(): Promise<boolean>;
  hostname(): Promise<string>;
  /** Empty string resets to the default (first 7 characters of the uuid). */
  setHostname(hostname: string): Promise<void>;
  proxy(): Promise<ProxyConfig | undefined>;
  /** `{}` removes the proxy; other fields are merged onto the current configuration. */
  setProxy(proxy: Partial<ProxyConfig>): Promise<void>;
}

/** The host journal: runs journalctl with these arguments; the child is killed when `signal` aborts. */
export interface JournalReader {
  stream(args: readonly string[], signal: AbortSignal): Readable;
}

/** The cloud binding, absent on an unmanaged device. */
export interface CloudPort {
  /** Poll the target state now (cancel: abort an apply in progress for the new target). */
  fetchTargetNow(options: { force: boolean; cancel: boolean }): void;
  tags(): Promise<Array<{ id: number; name: string; value: string }>>;
  setTags(tags: Record<string, string>): Promise<void>;
  /** Reachability of the cloud, for the device's status (in memory, cheap). */
  connectivity(): CloudConnectivity;
}

/** One health criterion: see health-checks.ts (named checks; the cloud binding adds its own). */
export type { NamedHealthCheck as HealthCheck } from './health-checks.js';
