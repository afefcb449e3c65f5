/**
 * What the cloud binding needs from the rest of bosun, as shapes it owns (adapters never import each
 * other): main.ts hands it config.json, the store's target repository, the reconciler and device facts.
 */
import type { ReconcileStatus } from '../reconciler/status.js';

/** The config.json fields provisioning reads and writes. */
export interface CloudIdentity {
  readonly uuid: string;
  readonly deviceApiKey: string;
  readonly apiKey?: string | undefined;
  readonly applicationId?: number | undefined;
  readonly registered_at?: number | undefined;
  readonly deviceId?: number | undefined;
}

/** config.json, written atomically by its owner; `null` deletes a key, other keys are kept. */
export interface CloudConfigFile {
  readonly value: CloudIdentity;
  update(changes: {
    uuid?: string;
    deviceApiKey?: string;
    apiKey?: null;
    registered_at?: number | null;
    deviceId?: number | null;
  }): Promise<unknown>;
}

export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** The cloud's last accepted target, as stored (raw v3 app documents). */
export interface CloudStoredTarget {
  readonly name: string;
  readonly config: Readonly<Record<string, string>>;
  readonly apps: Readonly<Record<string, JsonObject>>;
}

export interface CloudTargetStore {
  save(target: CloudStoredTarget): Promise<void>;
  load(): Promise<CloudStoredTarget | undefined>;
}

/** The reconciler as the cloud binding sees it. */
export interface CloudReconciler {
  status(): ReconcileStatus;
  /** Re-load the stored target and apply it (latest wins; an apply in progress is cancelled). */
  triggerApply(options: { force: boolean }): void;
  onStatus(listener: (status: ReconcileStatus) => void): () => void;
}

/** Facts reported to the cloud; read on demand. */
export interface CloudDeviceFacts {
  deviceType(): string;
  osVersion(): Promise<string | undefined>;
  osVariant(): Promise<string | undefined>;
  /** Filtered as docs/protocol.md#device-information says. */
  ipAddresses(): Promise<string[]>;
  macAddresses(): Promise<string[]>;
  /** Whether the kernel reported under-voltage (reported as is_undervolted); absent: not reported. */
  undervolted?(): Promise<boolean>;
}

/** Hardware metrics (docs/protocol.md#hardware-metrics); null fields are unknown on this host. */
export interface HardwareMetrics {
  cpu_usage: number | null;
  memory_usage: number | null;
  memory_total: number | null;
  storage_usage: number | null;
  storage_total: number | null;
  storage_block_device: string | null;
  cpu_temp: number | null;
  cpu_id: string | null;
}

/** System log lines (shown in the dashboard's log view, like balena's). */
export interface CloudSystemLog {
  message(text: string, options?: { isStdErr?: boolean }): void;
}

/** Counts of the cloud traffic (the agent's metrics satisfy this shape; labels are these words only). */
export interface CloudTraffic {
  cloudPoll(outcome: 'ok' | 'not-modified' | 'error'): void;
  cloudReport(outcome: 'ok' | 'error'): void;
  cloudBytes(direction: 'sent' | 'received', bytes: number): void;
}

/** What the initial config report (docs/protocol.md#initial-config-report) reads and where it remembers it was done. */
export interface InitialConfigSource {
  /** The endpoint it was reported to (DB initialConfigReported). */
  reportedTo: () => Promise<string | undefined>;
  markReported: (endpoint: string) => Promise<void>;
  /** The device's current config vars (unprefixed name → text). */
  current: () => Readonly<Record<string, string>>;
  defaults: Readonly<Record<string, string>>;
  initialDeviceName: string | undefined;
}
