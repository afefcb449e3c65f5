/**
 * Drift detection by hash (architecture rule 2): the executor labels each container, network and volume
 * with the hash of its normalised config; the planner recreates when the target's hash differs.
 *
 * The hash is sha256 over canonical JSON of a *comparable* config in which every default is spelled out,
 * so a target that writes a default and one that omits it hash the same. It leaves out what is compared
 * another way or must not cause a recreate: the image (compared by engine image id), the container name,
 * release id, commit and image id (a commit-only change is a rename), `*_DEVICE_NAME_AT_INIT` (a device
 * rename must not recreate containers) and the running state.
 *
 * CHANGING WHAT GOES INTO A HASH RECREATES EVERY CONTAINER ON EVERY DEVICE: test/golden pins the values.
 */
import { nodeCrypto } from '../shared/node-crypto.js';
import { BosunError } from '../shared/errors.js';
import { canonicalJson } from './canonical-json.js';
import type {
  ContainerCreateSpec,
  EndpointSpec,
  MountSpec,
  NetworkCreateSpec,
  VolumeCreateSpec,
} from './container-spec.js';
import { isDeviceNameAtInit } from './service/environment.js';

export const CONFIG_HASH_LABEL = 'io.bosun.config-hash';

/** Labels the agent sets on networks and volumes itself; not part of their config. */
const MANAGED_RESOURCE_LABELS = new Set([
  'io.balena.supervised',
  'io.resin.supervised',
  'io.balena.app-id',
  'io.balena.app-uuid',
  'io.balena.private.ipam.config',
  CONFIG_HASH_LABEL,
]);

/** Engine defaults (and balena's) for values a spec may leave out. */
const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
const DEFAULT_STOP_TIMEOUT_SEC = 10;
const DEFAULT_IPC_MODE = 'shareable';

const HASH_VERSION = 'bosun-config-v1';

function sha256(text: string): string {
  return nodeCrypto().createHash('sha256').update(text).digest('hex');
}

const sorted = (list: readonly string[] | undefined): string[] => [...(list ?? [])].sort();

function sortedRecord<T>(
  record: Readonly<Record<string, T>> | undefined,
  keep: (key: string) => boolean = () => true,
): Record<string, T> {
  if (record === undefined) return {};
  // fromEntries defines keys (safe for any key name) and keeps the sorted insertion order.
  return Object.fromEntries(
    Object.keys(record)
      .sort()
      .filter(keep)
      .map((key) => [key, record[key]!]),
  );
}

function envRecord(env: readonly string[]): Record<string, string> {
  const entries: Array<[string, string]> = [];
  for (const line of env) {
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    if (!isDeviceNameAtInit(key)) entries.push([key, eq < 0 ? '' : line.slice(eq + 1)]);
  }
  // Normalisation already gives sorted unique keys; only an inspected container may need sorting.
  let ordered = true;
  for (let i = 1; i < entries.length && ordered; i++) ordered = entries[i - 1]![0] < entries[i]![0];
  if (!ordered) entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // fromEntries: later duplicates win, as in the engine; keys are defined, never set through a prototype.
  return Object.fromEntries(entries);
}

function comparableMount(m: MountSpec): string {
  return canonicalJson({
    Type: m.Type,
    Source: m.Source ?? '',
    Target: m.Target,
    ReadOnly: m.ReadOnly ?? false,
    Propagation: m.BindOptions?.Propagation ?? '',
    NoCopy: m.VolumeOptions?.NoCopy ?? false,
    SizeBytes: m.TmpfsOptions?.SizeBytes ?? 0,
  });
}

function comparableEndpoint(e: EndpointSpec): unknown {
  return {
    Aliases: sorted(e.Aliases),
    IPv4Address: e.IPAMConfig?.IPv4Address ?? '',
    IPv6Address: e.IPAMConfig?.IPv6Address ?? '',
    LinkLocalIPs: sorted(e.IPAMConfig?.LinkLocalIPs),
  };
}

// Every field of the create spec must be listed here, either compared or deliberately excluded:
// a field added to ContainerCreateSpec and forgotten here makes hashing fail loudly instead of
// silently ignoring changes to it.
const TOP_LEVEL_FIELDS = new Set([
  'name',
  'Image',
  'Env',
  'Labels',
  'Cmd',
  'Entrypoint',
  'Hostname',
  'Domainname',
  'User',
  'WorkingDir',
  'Tty',
  'OpenStdin',
  'StopSignal',
  'StopTimeout',
  'Healthcheck',
  'ExposedPorts',
  'Volumes',
  'MacAddress',
  'HostConfig',
  'NetworkingConfig',
]);
const HOST_CONFIG_FIELDS = new Set([
  'NetworkMode',
  'Binds',
  'Mounts',
  'RestartPolicy',
  'PortBindings',
  'Privileged',
  'CapAdd',
  'CapDrop',
  'Devices',
  'DeviceRequests',
  'Dns',
  'DnsOptions',
  'DnsSearch',
  'ExtraHosts',
  'GroupAdd',
  'SecurityOpt',
  'Tmpfs',
  'Sysctls',
  'Ulimits',
  'Memory',
  'MemoryReservation',
  'ShmSize',
  'CpuShares',
  'CpuQuota',
  'NanoCpus',
  'CpusetCpus',
  'OomKillDisable',
  'OomScoreAdj',
  'PidMode',
  'PidsLimit',
  'IpcMode',
  'UsernsMode',
  'CgroupParent',
  'ReadonlyRootfs',
  'Init',
]);

function assertKnownFields(spec: ContainerCreateSpec): void {
  const unknown = [
    ...Object.keys(spec).filter((k) => !TOP_LEVEL_FIELDS.has(k)),
    ...Object.keys(spec.HostConfig)
      .filter((k) => !HOST_CONFIG_FIELDS.has(k))
      .map((k) => `HostConfig.${k}`),
  ];
  if (unknown.length > 0) {
    throw new BosunError(
      'INTERNAL',
      `config hash does not know create-spec field(s) ${unknown.join(', ')}: add them to comparableServiceConfig`,
    );
  }
}

/**
 * The comparable form of a service container: the create spec with defaults spelled out and order-free
 * lists sorted. Endpoints come from NetworkingConfig, which normalisation fills with every network.
 */
export function comparableServiceConfig(spec: ContainerCreateSpec): Record<string, unknown> {
  assertKnownFields(spec);
  const endpoints = spec.NetworkingConfig?.EndpointsConfig ?? {};
  const hc = spec.HostConfig;
  const hostPort = (b: { HostIp?: string; HostPort?: string }): string =>
    `${b.HostIp ?? ''}|${b.HostPort ?? ''}`;
  // Built in canonical order (keys sorted at every level, top level written sorted), so the hash can
  // use plain JSON.stringify: config-hash.spec checks that it equals canonicalJson.
  return {
    Binds: sorted(hc.Binds),
    CapAdd: sorted(hc.CapAdd),
    CapDrop: sorted(hc.CapDrop),
    CgroupParent: hc.CgroupParent ?? '',
    Cmd: spec.Cmd ?? null,
    CpuQuota: hc.CpuQuota ?? 0,
    CpuShares: hc.CpuShares ?? 0,
    CpusetCpus: hc.CpusetCpus ?? '',
    DeviceRequests: (hc.DeviceRequests ?? []).map(
      (request) => JSON.parse(canonicalJson(request)) as unknown,
    ),
    Devices: (hc.Devices ?? [])
      .map((d) => `${d.PathOnHost}:${d.PathInContainer}:${d.CgroupPermissions}`)
      .sort(),
    Dns: hc.Dns ?? [],
    DnsOptions: sorted(hc.DnsOptions),
    DnsSearch: hc.DnsSearch ?? [],
    Domainname: spec.Domainname ?? '',
    Entrypoint: spec.Entrypoint ?? null,
    Env: envRecord(spec.Env),
    ExposedPorts: sorted(Object.keys(spec.ExposedPorts ?? {})),
    ExtraHosts: sorted(hc.ExtraHosts),
    GroupAdd: sorted(hc.GroupAdd),
    Healthcheck:
      spec.Healthcheck === undefined
        ? null
        : {
            Interval: spec.Healthcheck.Interval ?? 0,
            Retries: spec.Healthcheck.Retries ?? 0,
            StartPeriod: spec.Healthcheck.StartPeriod ?? 0,
            Test: spec.Healthcheck.Test,
            Timeout: spec.Healthcheck.Timeout ?? 0,
          },
    Hostname: spec.Hostname ?? '',
    Init: hc.Init ?? null,
    IpcMode: hc.IpcMode ?? DEFAULT_IPC_MODE,
    Labels: sortedRecord(spec.Labels, (key) => key !== CONFIG_HASH_LABEL),
    MacAddress: spec.MacAddress ?? '',
    Memory: hc.Memory ?? 0,
    MemoryReservation: hc.MemoryReservation ?? 0,
    Mounts: (hc.Mounts ?? []).map(comparableMount).sort(),
    NanoCpus: hc.NanoCpus ?? 0,
    NetworkMode: hc.NetworkMode,
    Networks: Object.fromEntries(
      Object.keys(endpoints)
        .sort()
        .map((name) => [name, comparableEndpoint(endpoints[name]!)]),
    ),
    OomKillDisable: hc.OomKillDisable ?? false,
    OomScoreAdj: hc.OomScoreAdj ?? 0,
    OpenStdin: spec.OpenStdin ?? false,
    PidMode: hc.PidMode ?? '',
    // 0 and -1 both mean "no limit" to the engine.
    PidsLimit: Math.max(hc.PidsLimit ?? 0, 0),
    PortBindings: Object.fromEntries(
      Object.keys(hc.PortBindings ?? {})
        .sort()
        .map((port) => [port, (hc.PortBindings![port] ?? []).map(hostPort).sort()]),
    ),
    Privileged: hc.Privileged ?? false,
    ReadonlyRootfs: hc.ReadonlyRootfs ?? false,
    RestartPolicy: {
      MaximumRetryCount: hc.RestartPolicy.MaximumRetryCount ?? 0,
      Name: hc.RestartPolicy.Name === '' ? 'no' : hc.RestartPolicy.Name,
    },
    SecurityOpt: sorted(hc.SecurityOpt),
    ShmSize: hc.ShmSize ?? DEFAULT_SHM_SIZE,
    StopSignal: spec.StopSignal ?? '',
    StopTimeout: spec.StopTimeout ?? DEFAULT_STOP_TIMEOUT_SEC,
    Sysctls: sortedRecord(hc.Sysctls),
    Tmpfs: sortedRecord(hc.Tmpfs),
    Tty: spec.Tty,
    Ulimits: (hc.Ulimits ?? []).map((u) => `${u.Name}:${u.Soft}:${u.Hard}`).sort(),
    User: spec.User ?? '',
    UsernsMode: hc.UsernsMode ?? '',
    Volumes: sorted(Object.keys(spec.Volumes ?? {})),
    WorkingDir: spec.WorkingDir ?? '',
  };
}

export function serviceConfigHash(spec: ContainerCreateSpec): string {
  return sha256(`${HASH_VERSION}:service:${JSON.stringify(comparableServiceConfig(spec))}`);
}

export function comparableNetworkConfig(
  spec: Omit<NetworkCreateSpec, 'Name'>,
): Record<string, unknown> {
  const configOnly = spec.ConfigOnly ?? false;
  return {
    // The engine ignores (and may report differently) the driver of a config-only network.
    Driver: configOnly ? '' : spec.Driver,
    Internal: spec.Internal ?? false,
    EnableIPv6: spec.EnableIPv6 ?? false,
    ConfigOnly: configOnly,
    Options: sortedRecord(spec.Options),
    IPAM: {
      Driver: spec.IPAM?.Driver ?? 'default',
      Config: (spec.IPAM?.Config ?? []).map((c) => ({
        Subnet: c.Subnet ?? '',
        Gateway: c.Gateway ?? '',
        IPRange: c.IPRange ?? '',
        AuxiliaryAddresses: sortedRecord(c.AuxiliaryAddresses),
      })),
      Options: sortedRecord(spec.IPAM?.Options),
    },
    Labels: sortedRecord(spec.Labels, (key) => !MANAGED_RESOURCE_LABELS.has(key)),
  };
}

export function networkConfigHash(spec: Omit<NetworkCreateSpec, 'Name'>): string {
  return sha256(`${HASH_VERSION}:network:${canonicalJson(comparableNetworkConfig(spec))}`);
}

export function comparableVolumeConfig(
  spec: Omit<VolumeCreateSpec, 'Name'>,
): Record<string, unknown> {
  return {
    Driver: spec.Driver || 'local',
    DriverOpts: sortedRecord(spec.DriverOpts),
    Labels: sortedRecord(spec.Labels, (key) => !MANAGED_RESOURCE_LABELS.has(key)),
  };
}

export function volumeConfigHash(spec: Omit<VolumeCreateSpec, 'Name'>): string {
  return sha256(`${HASH_VERSION}:volume:${canonicalJson(comparableVolumeConfig(spec))}`);
}
