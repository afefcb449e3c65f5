/**
 * Adoption of containers bosun did not label with a config hash (made by balena-supervisor, or by an
 * older bosun): rebuild a create spec from the engine's inspect so that `serviceConfigHash` can be
 * compared with the target's, instead of recreating every container on the first run.
 *
 * The engine merges the image's config into the container's (env, labels, cmd, exposed ports, volumes,
 * healthcheck), so values equal to the image's are taken as "not set by the target" — as normalisation
 * leaves them unset. A target that explicitly repeats an image value therefore looks different and the
 * container is recreated once: the safe direction.
 */
import { networkConfigHash, serviceConfigHash, volumeConfigHash } from './config-hash.js';
import type {
  ContainerCreateSpec,
  EndpointSpec,
  HealthcheckSpec,
  MountSpec,
} from './container-spec.js';

type Maybe<T> = T | null | undefined;

/** The parts of the engine's image inspect `Config` that containers inherit. */
export interface ImageConfigInspect {
  Env?: Maybe<string[]>;
  Labels?: Maybe<Record<string, string>>;
  Cmd?: Maybe<string[]>;
  Entrypoint?: Maybe<string[]>;
  Healthcheck?: Maybe<HealthcheckSpec>;
  User?: Maybe<string>;
  WorkingDir?: Maybe<string>;
  StopSignal?: Maybe<string>;
  ExposedPorts?: Maybe<Record<string, unknown>>;
  Volumes?: Maybe<Record<string, unknown>>;
}

/** The parts of `GET /containers/{id}/json` that a create spec sets. */
export interface ContainerInspect {
  Id: string;
  Name: string;
  Config: ImageConfigInspect & {
    Image: string;
    Hostname?: Maybe<string>;
    Domainname?: Maybe<string>;
    Tty?: Maybe<boolean>;
    OpenStdin?: Maybe<boolean>;
    StopTimeout?: Maybe<number>;
    MacAddress?: Maybe<string>;
  };
  HostConfig: {
    [K in keyof ContainerCreateSpec['HostConfig']]?: Maybe<ContainerCreateSpec['HostConfig'][K]>;
  } & {
    RestartPolicy?: Maybe<{ Name?: Maybe<string>; MaximumRetryCount?: Maybe<number> }>;
    Mounts?: Maybe<Array<MountSpec & { BindOptions?: Maybe<{ Propagation?: Maybe<string> }> }>>;
  };
  NetworkSettings?: Maybe<{
    Networks?: Maybe<
      Record<
        string,
        {
          Aliases?: Maybe<string[]>;
          IPAMConfig?: Maybe<{
            IPv4Address?: Maybe<string>;
            IPv6Address?: Maybe<string>;
            LinkLocalIPs?: Maybe<string[]>;
          }>;
        }
      >
    >;
  }>;
}

const RESTART_POLICIES = new Set(['', 'no', 'always', 'on-failure', 'unless-stopped']);
const sameList = (a: Maybe<readonly string[]>, b: Maybe<readonly string[]>): boolean =>
  (a ?? []).length === (b ?? []).length && (a ?? []).every((v, i) => v === b?.[i]);

/** Keeps only what differs from the image (what the create request must have set). */
function minusImage(value: Maybe<string>, image: Maybe<string>): string | undefined {
  return value === null || value === undefined || value === '' || value === image
    ? undefined
    : value;
}

function envMinusImage(env: readonly string[], image: readonly string[]): string[] {
  const inherited = new Set(image);
  return env.filter((line) => !inherited.has(line));
}

/**
 * balena-supervisor v19 injects the hand-over path as `RESIN_SERVICE_KILL_ME_PATH` only, where bosun
 * injects both prefixes (docs/protocol.md#injected-environment: every agent variable exists with both). The
 * missing twin is an injected variable of the agent's own, not a difference the target asked for: read it as
 * present.
 */
const AGENT_ENV_TWINS: ReadonlyArray<readonly [legacy: string, current: string, value: string]> = [
  ['RESIN_SERVICE_KILL_ME_PATH', 'BALENA_SERVICE_KILL_ME_PATH', '/tmp/balena/handover-complete'],
];

function withAgentAliases(env: string[]): string[] {
  const keys = new Set(env.map((line) => line.slice(0, line.indexOf('='))));
  const added: string[] = [];
  for (const [legacy, current, value] of AGENT_ENV_TWINS)
    if (!keys.has(current) && env.includes(`${legacy}=${value}`)) added.push(`${current}=${value}`);
  return added.length === 0 ? env : [...env, ...added];
}

/** `{"Test": ["NONE"]}`: balena-supervisor writes it when a service defines no healthcheck. */
function isDisabledHealthcheck(hc: HealthcheckSpec): boolean {
  return hc.Test[0] === 'NONE';
}

function hasHealthcheck(hc: Maybe<HealthcheckSpec>): boolean {
  return hc !== null && hc !== undefined && !isDisabledHealthcheck(hc);
}

/**
 * The engine's default stop signal is SIGTERM, and balena-supervisor writes it explicitly
 * (docs/protocol.md#service-defaults default `stopSignal: SIGTERM`). Where the image sets no other signal, an
 * explicit SIGTERM means the default, as the target's unset one does.
 */
function stopSignal(container: Maybe<string>, image: Maybe<string>): string | undefined {
  const value = minusImage(container, image);
  const imageSets = image !== null && image !== undefined && image !== '';
  if (!imageSets && value !== undefined && ['SIGTERM', 'TERM', '15'].includes(value.toUpperCase()))
    return undefined;
  return value;
}

/** Modes whose network the engine lists as an endpoint although the create request named no endpoint. */
const BUILTIN_MODES = new Set(['host', 'none', 'bridge', 'default']);

function endpoints(inspect: ContainerInspect): Record<string, EndpointSpec> | undefined {
  const networks = inspect.NetworkSettings?.Networks ?? {};
  const shortId = inspect.Id.slice(0, 12);
  const mode = inspect.HostConfig.NetworkMode ?? 'default';
  const out: Record<string, EndpointSpec> = {};
  for (const [name, net] of Object.entries(networks)) {
    if (name === mode && BUILTIN_MODES.has(mode)) continue;
    // The engine adds the container's short id as an alias on user networks; the target never asks for it.
    const aliases = (net.Aliases ?? []).filter((a) => a !== shortId && a !== inspect.Id);
    const endpoint: EndpointSpec = {};
    if (aliases.length > 0) endpoint.Aliases = aliases;
    const ipam = net.IPAMConfig;
    const config: NonNullable<EndpointSpec['IPAMConfig']> = {};
    if (ipam?.IPv4Address) config.IPv4Address = ipam.IPv4Address;
    if (ipam?.IPv6Address) config.IPv6Address = ipam.IPv6Address;
    if (ipam?.LinkLocalIPs && ipam.LinkLocalIPs.length > 0) config.LinkLocalIPs = ipam.LinkLocalIPs;
    if (Object.keys(config).length > 0) endpoint.IPAMConfig = config;
    out[name] = endpoint;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function mounts(list: ContainerInspect['HostConfig']['Mounts']): MountSpec[] | undefined {
  if (!list || list.length === 0) return undefined;
  return list.map((m) => {
    const mount: MountSpec = { Type: m.Type, Target: m.Target };
    if (m.Source) mount.Source = m.Source;
    if (m.ReadOnly) mount.ReadOnly = true;
    if (m.BindOptions?.Propagation) mount.BindOptions = { Propagation: m.BindOptions.Propagation };
    if (m.VolumeOptions?.NoCopy) mount.VolumeOptions = { NoCopy: true };
    if (m.TmpfsOptions?.SizeBytes) mount.TmpfsOptions = { SizeBytes: m.TmpfsOptions.SizeBytes };
    return mount;
  });
}

function recordMinus(
  record: Maybe<Record<string, unknown>>,
  image: Maybe<Record<string, unknown>>,
  keep: (key: string) => boolean = () => false,
): Record<string, Record<string, never>> | undefined {
  const keys = Object.keys(record ?? {}).filter(
    (key) => keep(key) || !Object.hasOwn(image ?? {}, key),
  );
  return keys.length === 0 ? undefined : Object.fromEntries(keys.map((key) => [key, {}]));
}

/**
 * A create spec equivalent, for hashing, to the one that made this container. `serviceOfContainer` names
 * the service a `container:<id>` network mode points at, so it reads back as the target's `service:<name>`.
 */
export function createSpecFromInspect(
  inspect: ContainerInspect,
  image: ImageConfigInspect,
  serviceOfContainer: (containerId: string) => string | undefined = () => undefined,
): ContainerCreateSpec {
  const c = inspect.Config;
  const h = inspect.HostConfig;
  const imageLabels = image.Labels ?? {};
  const labels = Object.fromEntries(
    Object.entries(c.Labels ?? {}).filter(([key, value]) => imageLabels[key] !== value),
  );
  const portBindings = h.PortBindings ?? undefined;
  const restart = h.RestartPolicy?.Name ?? '';
  const hostname = c.Hostname && c.Hostname !== inspect.Id.slice(0, 12) ? c.Hostname : undefined;
  const healthcheck =
    c.Healthcheck &&
    JSON.stringify(c.Healthcheck) !== JSON.stringify(image.Healthcheck ?? null) &&
    !(isDisabledHealthcheck(c.Healthcheck) && !hasHealthcheck(image.Healthcheck))
      ? c.Healthcheck
      : undefined;
  const networkEndpoints = endpoints(inspect);
  let networkMode = h.NetworkMode ?? 'default';
  if (networkMode.startsWith('container:')) {
    const service = serviceOfContainer(networkMode.slice('container:'.length));
    if (service !== undefined) networkMode = `service:${service}`;
  }
  const hostConfig: ContainerCreateSpec['HostConfig'] = {
    NetworkMode: networkMode,
    RestartPolicy: {
      Name: RESTART_POLICIES.has(restart) ? restart : 'no',
      MaximumRetryCount: h.RestartPolicy?.MaximumRetryCount ?? 0,
    },
  };
  const copy = <K extends keyof ContainerCreateSpec['HostConfig']>(
    key: K,
    value: Maybe<ContainerCreateSpec['HostConfig'][K]>,
  ): void => {
    if (value !== null && value !== undefined) hostConfig[key] = value;
  };
  copy('Binds', h.Binds);
  copy('Mounts', mounts(h.Mounts));
  copy(
    'PortBindings',
    portBindings && Object.keys(portBindings).length > 0 ? portBindings : undefined,
  );
  copy('Privileged', h.Privileged);
  copy('CapAdd', h.CapAdd);
  copy('CapDrop', h.CapDrop);
  copy('Devices', h.Devices);
  copy('DeviceRequests', h.DeviceRequests);
  copy('Dns', h.Dns);
  copy('DnsOptions', h.DnsOptions);
  copy('DnsSearch', h.DnsSearch);
  copy('ExtraHosts', h.ExtraHosts);
  copy('GroupAdd', h.GroupAdd);
  // SELinux label options are added by the engine (docs/protocol.md#container-naming).
  copy(
    'SecurityOpt',
    h.SecurityOpt?.filter((opt) => !opt.startsWith('label=')),
  );
  copy('Tmpfs', h.Tmpfs);
  copy('Sysctls', h.Sysctls);
  copy('Ulimits', h.Ulimits);
  copy('Memory', h.Memory);
  copy('MemoryReservation', h.MemoryReservation);
  copy('ShmSize', h.ShmSize);
  copy('CpuShares', h.CpuShares);
  copy('CpuQuota', h.CpuQuota);
  copy('NanoCpus', h.NanoCpus);
  copy('CpusetCpus', h.CpusetCpus);
  copy('OomKillDisable', h.OomKillDisable);
  copy('OomScoreAdj', h.OomScoreAdj);
  copy('PidMode', h.PidMode);
  copy('PidsLimit', h.PidsLimit);
  copy('IpcMode', h.IpcMode);
  copy('UsernsMode', h.UsernsMode);
  copy('CgroupParent', h.CgroupParent);
  copy('ReadonlyRootfs', h.ReadonlyRootfs);
  copy('Init', h.Init);

  const spec: ContainerCreateSpec = {
    name: inspect.Name.replace(/^\//, ''),
    Image: c.Image,
    Env: withAgentAliases(envMinusImage(c.Env ?? [], image.Env ?? [])),
    Labels: labels,
    Tty: c.Tty ?? false,
    HostConfig: hostConfig,
  };
  const set = <K extends keyof ContainerCreateSpec>(
    key: K,
    value: ContainerCreateSpec[K] | undefined,
  ): void => {
    if (value !== undefined) spec[key] = value;
  };
  set('Cmd', c.Cmd && !sameList(c.Cmd, image.Cmd) ? c.Cmd : undefined);
  set(
    'Entrypoint',
    c.Entrypoint && !sameList(c.Entrypoint, image.Entrypoint) ? c.Entrypoint : undefined,
  );
  set('Hostname', hostname);
  set('Domainname', minusImage(c.Domainname, undefined));
  set('User', minusImage(c.User, image.User));
  set('WorkingDir', minusImage(c.WorkingDir, image.WorkingDir));
  set('OpenStdin', c.OpenStdin === true ? true : undefined);
  set('StopSignal', stopSignal(c.StopSignal, image.StopSignal));
  set('StopTimeout', c.StopTimeout ?? undefined);
  set('Healthcheck', healthcheck ?? undefined);
  // Exposed ports the image declares only count when the container also publishes them.
  set(
    'ExposedPorts',
    recordMinus(c.ExposedPorts, image.ExposedPorts, (port) =>
      Object.hasOwn(portBindings ?? {}, port),
    ),
  );
  set('Volumes', recordMinus(c.Volumes, image.Volumes));
  set('MacAddress', minusImage(c.MacAddress, undefined));
  set(
    'NetworkingConfig',
    networkEndpoints === undefined ? undefined : { EndpointsConfig: networkEndpoints },
  );
  return spec;
}

/** The config hash of a container from its inspect and its image's config. */
export function configHashFromInspect(
  inspect: ContainerInspect,
  image: ImageConfigInspect,
  serviceOfContainer?: (containerId: string) => string | undefined,
): string {
  return serviceConfigHash(createSpecFromInspect(inspect, image, serviceOfContainer));
}

/** What the engine reports of a network (structurally the engine port's NetworkInfo). */
export interface NetworkInspect {
  driver: string;
  labels: Readonly<Record<string, string>>;
  internal: boolean;
  enableIPv6: boolean;
  configOnly: boolean;
  options: Readonly<Record<string, string>>;
  ipam: {
    driver: string;
    config: ReadonlyArray<{ subnet?: string; gateway?: string; ipRange?: string }>;
  };
}

/** What the engine reports of a volume (structurally the engine port's VolumeInfo). */
export interface VolumeInspect {
  driver: string;
  labels: Readonly<Record<string, string>>;
  options: Readonly<Record<string, string>>;
}

/**
 * The config hash of an engine network made without our hash label. Subnets the engine chose itself are
 * not config: only networks labelled `io.balena.private.ipam.config` carry IPAM config the target asked for.
 */
export function networkHashFromInspect(network: NetworkInspect): string {
  const customIpam = network.labels['io.balena.private.ipam.config'] !== undefined;
  return networkConfigHash({
    Driver: network.driver,
    Labels: { ...network.labels },
    Internal: network.internal,
    EnableIPv6: network.enableIPv6,
    ConfigOnly: network.configOnly,
    Options: { ...network.options },
    IPAM: {
      Driver: network.ipam.driver || 'default',
      Config: customIpam
        ? network.ipam.config.map((c) => ({
            ...(c.subnet ? { Subnet: c.subnet } : {}),
            ...(c.gateway ? { Gateway: c.gateway } : {}),
            ...(c.ipRange ? { IPRange: c.ipRange } : {}),
          }))
        : [],
    },
  });
}

/** The config hash of an engine volume made without our hash label. */
export function volumeHashFromInspect(volume: VolumeInspect): string {
  return volumeConfigHash({
    Driver: volume.driver,
    DriverOpts: { ...volume.options },
    Labels: { ...volume.labels },
  });
}
