/**
 * The current state report body (docs/protocol.md#report-body) from the reconciler's status and the stored
 * cloud target. Pure. Only apps of the cloud target are reported (the device may not report others), each
 * service's `image` is the target's string exactly as the cloud sent it (the API answers 401 to anything
 * else: test/fixtures/cloud/README.md), and `release_uuid` is the commit the app last fully applied.
 */
import type { AppStatus, ReconcileStatus } from '../reconciler/status.js';
import type { CloudStoredTarget, HardwareMetrics, JsonObject } from './ports.js';
import type { Rejections } from './target-intake.js';

export type ReportValue = string | number | boolean | null | JsonObject;
export type DeviceReport = Record<string, ReportValue>;

export interface DeviceFields {
  api_port: number;
  api_secret: string;
  os_version: string | undefined;
  os_variant: string | undefined;
  supervisor_version: string;
  ip_address: string;
  mac_address: string;
  /** The device name from the target. */
  name: string | undefined;
  is_undervolted?: boolean | undefined;
  /** Local mode: `logs_channel` is left out, as upstream does. */
  localMode?: boolean;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function firstRelease(app: JsonObject): { commit: string; services: JsonObject } | undefined {
  const releases = app['releases'];
  if (!isObject(releases)) return undefined;
  const entry = Object.entries(releases)[0];
  if (entry === undefined || !isObject(entry[1])) return undefined;
  const services = entry[1]['services'];
  return { commit: entry[0], services: isObject(services) ? services : {} };
}

function serviceReport(
  name: string,
  rawService: unknown,
  app: AppStatus | undefined,
): JsonObject | undefined {
  const image = isObject(rawService) ? rawService['image'] : undefined;
  if (typeof image !== 'string') return undefined;
  const status = app?.services[name];
  if (status === undefined) return { image, status: 'Downloading', download_progress: 0 };
  return {
    image,
    status: status.status,
    download_progress: status.status === 'Downloading' ? (status.downloadProgress ?? 0) : null,
  };
}

export function buildAppsReport(
  status: ReconcileStatus,
  target: CloudStoredTarget | undefined,
  rejections: Rejections,
): JsonObject {
  const apps: JsonObject = {};
  for (const [appUuid, rawApp] of Object.entries(target?.apps ?? {})) {
    const appStatus = status.apps[appUuid];
    const releases: JsonObject = {};
    const release = firstRelease(rawApp);
    if (release !== undefined) {
      const services: JsonObject = {};
      for (const [name, rawService] of Object.entries(release.services)) {
        const entry = serviceReport(name, rawService, appStatus);
        if (entry !== undefined) services[name] = entry;
      }
      releases[release.commit] = {
        update_status: appStatus?.updateStatus ?? 'downloading',
        services,
      };
      Object.assign(releases, rollbackReleases(release.commit, release.services, appStatus));
    }
    const rejected = rejections.get(appUuid);
    if (rejected !== undefined && releases[rejected] === undefined)
      releases[rejected] = { update_status: 'rejected', services: {} };
    const report: JsonObject = { releases };
    const current = appStatus?.currentCommit;
    if (current !== undefined) report['release_uuid'] = current;
    apps[appUuid] = report;
  }
  return apps;
}

/** What a failed confirmation window shows in the report, by the failed service. */
const FAILURE_WORDS = { unhealthy: 'Unhealthy', crashLoop: 'Dead', notRunning: 'Dead' } as const;

/**
 * Health-gated rollback: the target release that failed its window is `aborted`, its failed service
 * says how it failed (the others of a rolled-back release are `Stopped`), and the confirmed release
 * that runs instead is reported as such, with the images the cloud sent for it.
 */
function rollbackReleases(
  commit: string,
  rawServices: JsonObject,
  app: AppStatus | undefined,
): JsonObject {
  const failed = app?.releaseCheck?.failed;
  if (failed === undefined || failed.commit !== commit) return {};
  const back = failed.rolledBackTo;
  const services: JsonObject = {};
  for (const [name, rawService] of Object.entries(rawServices)) {
    const entry = back === undefined ? serviceReport(name, rawService, app) : undefined;
    const image = isObject(rawService) ? rawService['image'] : undefined;
    if (entry !== undefined) services[name] = entry;
    else if (typeof image === 'string')
      services[name] = { image, status: 'Stopped', download_progress: null };
  }
  const failedEntry = services[failed.service ?? ''];
  if (isObject(failedEntry)) failedEntry['status'] = FAILURE_WORDS[failed.cause];
  const out: JsonObject = { [commit]: { update_status: 'aborted', services } };
  const confirmed = app?.releaseCheck?.confirmed;
  if (back !== undefined && confirmed?.commit === back) {
    const running: JsonObject = {};
    for (const [name, image] of Object.entries(confirmed.images))
      running[name] = serviceReport(name, { image }, app) ?? null;
    out[back] = { update_status: app?.updateStatus ?? 'applying changes', services: running };
  }
  return out;
}

/** Device fields, in the order a first report sends them; undefined facts are left out. */
export function buildDeviceReport(fields: DeviceFields, apps: JsonObject): DeviceReport {
  const report: DeviceReport = {
    api_port: fields.api_port,
    api_secret: fields.api_secret,
    ip_address: fields.ip_address,
    mac_address: fields.mac_address,
    supervisor_version: fields.supervisor_version,
    provisioning_progress: null,
    provisioning_state: '',
    status: 'Idle',
  };
  if (fields.os_version !== undefined) report['os_version'] = fields.os_version;
  if (fields.os_variant !== undefined) report['os_variant'] = fields.os_variant;
  if (fields.localMode !== true) report['logs_channel'] = null;
  if (fields.is_undervolted !== undefined) report['is_undervolted'] = fields.is_undervolted;
  if (fields.name !== undefined) report['name'] = fields.name;
  report['apps'] = apps;
  return report;
}

/**
 * Buckets of docs/protocol.md#hardware-metrics: a metric is re-reported only when it moves to another bucket.
 */
const BUCKETS: Partial<Record<keyof HardwareMetrics, number>> = {
  cpu_usage: 20,
  cpu_temp: 5,
  memory_usage: 10,
};

/** The metric values worth reporting given the last reported ones. */
export function significantMetrics(
  fresh: HardwareMetrics,
  last: Partial<Record<keyof HardwareMetrics, unknown>>,
): Partial<HardwareMetrics> {
  const out: Partial<Record<keyof HardwareMetrics, unknown>> = {};
  for (const key of Object.keys(fresh) as (keyof HardwareMetrics)[]) {
    const value = fresh[key];
    const previous = last[key];
    const bucket = BUCKETS[key];
    if (
      bucket !== undefined &&
      typeof value === 'number' &&
      typeof previous === 'number' &&
      Math.floor(value / bucket) === Math.floor(previous / bucket)
    )
      continue;
    if (value !== previous) out[key] = value;
  }
  return out as Partial<HardwareMetrics>;
}

/** Top-level keys whose value changed since the last acknowledged report (`apps` as a whole). */
export function reportDiff(current: DeviceReport, acked: DeviceReport): DeviceReport {
  const diff: DeviceReport = {};
  for (const [key, value] of Object.entries(current))
    if (JSON.stringify(value) !== JSON.stringify(acked[key])) diff[key] = value;
  return diff;
}
