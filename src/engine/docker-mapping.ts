/**
 * Engine API documents → the port's plain types. The engine writes `null` for many empty collections
 * (labels, env, mounts) despite what the typings say, so every collection is defaulted here, once.
 */
import type Dockerode from 'dockerode';
import type { ContainerInspect } from '../domain/adoption.js';
import type {
  ContainerInfo,
  ContainerSummary,
  ImageInfo,
  NetworkInfo,
  VolumeInfo,
} from './port.js';

/** The engine's "never happened" timestamp. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

const CONTAINER_STATES: ReadonlySet<string> = new Set<ContainerInfo['state']>([
  'created',
  'running',
  'paused',
  'restarting',
  'removing',
  'exited',
  'dead',
]);
const HEALTH_STATES: ReadonlySet<string> = new Set<ContainerInfo['health']>([
  'starting',
  'healthy',
  'unhealthy',
]);

function time(value: string | undefined): string | undefined {
  return value === undefined || value === '' || value === ZERO_TIME ? undefined : value;
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export function toContainerInfo(inspect: Dockerode.ContainerInspectInfo): ContainerInfo {
  const stateName = inspect.State.Status;
  const state = (CONTAINER_STATES.has(stateName) ? stateName : 'dead') as ContainerInfo['state'];
  const healthName = inspect.State.Health?.Status ?? 'none';
  const networks: ContainerInfo['networks'] = {};
  for (const [name, endpoint] of Object.entries(inspect.NetworkSettings.Networks ?? {})) {
    networks[name] = {
      networkId: endpoint.NetworkID,
      aliases: stringArray(endpoint.Aliases),
      ipAddress: endpoint.IPAddress === '' ? undefined : endpoint.IPAddress,
    };
  }
  return {
    id: inspect.Id,
    name: inspect.Name.replace(/^\//, ''),
    imageId: inspect.Image,
    image: inspect.Config.Image,
    labels: { ...(inspect.Config.Labels ?? {}) },
    env: [...(inspect.Config.Env ?? [])],
    state,
    health: (HEALTH_STATES.has(healthName) ? healthName : 'none') as ContainerInfo['health'],
    // The engine reports 0 for containers that never exited; only a finished process has an exit code.
    exitCode: state === 'exited' || state === 'dead' ? inspect.State.ExitCode : undefined,
    error: inspect.State.Error === '' ? undefined : inspect.State.Error,
    createdAt: inspect.Created,
    startedAt: time(inspect.State.StartedAt),
    finishedAt: time(inspect.State.FinishedAt),
    restartPolicy: inspect.HostConfig.RestartPolicy?.Name || 'no',
    restartCount: typeof inspect.RestartCount === 'number' ? inspect.RestartCount : 0,
    networks,
    mounts: (inspect.Mounts ?? []).map((m) => ({
      type: m.Type,
      name: m.Name === '' ? undefined : m.Name,
      source: m.Source,
      destination: m.Destination,
    })),
    // The engine's document is a superset of ContainerInspect; dockerode's typings differ only in
    // nullability, which the adoption code treats as "unset" anyway.
    raw: inspect as unknown as ContainerInspect,
  };
}

/** Second precision in both forms, so a listed image and an inspected one compare equal. */
function isoSeconds(value: number | string): string {
  const millis = typeof value === 'number' ? value * 1000 : Date.parse(value);
  return new Date(Math.floor(millis / 1000) * 1000).toISOString();
}

/** The engine lists untagged images with `<none>:<none>` placeholders: those are not names. */
function realNames(names: string[] | undefined | null): string[] {
  return (names ?? []).filter((n) => !n.startsWith('<none>'));
}

export function imageInfoFromList(image: Dockerode.ImageInfo): ImageInfo {
  return {
    id: image.Id,
    repoTags: realNames(image.RepoTags),
    repoDigests: realNames(image.RepoDigests),
    labels: { ...(image.Labels ?? {}) },
    createdAt: isoSeconds(image.Created),
    size: image.Size,
  };
}

export function imageInfoFromInspect(image: Dockerode.ImageInspectInfo): ImageInfo {
  return {
    id: image.Id,
    repoTags: realNames(image.RepoTags),
    repoDigests: realNames(image.RepoDigests),
    labels: { ...(image.Config?.Labels ?? {}) },
    createdAt: isoSeconds(image.Created),
    size: image.Size,
  };
}

export function toNetworkInfo(network: Dockerode.NetworkInspectInfo): NetworkInfo {
  return {
    id: network.Id,
    name: network.Name,
    driver: network.Driver,
    labels: { ...(network.Labels ?? {}) },
    internal: network.Internal,
    enableIPv6: network.EnableIPv6,
    configOnly: network.ConfigOnly ?? false,
    options: { ...(network.Options ?? {}) },
    ipam: {
      driver: network.IPAM?.Driver ?? 'default',
      config: (network.IPAM?.Config ?? []).map((c) => ({
        ...(c.Subnet ? { subnet: c.Subnet } : {}),
        ...(c.Gateway ? { gateway: c.Gateway } : {}),
        ...(c.IPRange ? { ipRange: c.IPRange } : {}),
      })),
    },
    containers: Object.keys(network.Containers ?? {}).sort(),
  };
}

export function toVolumeInfo(volume: Dockerode.VolumeInspectInfo): VolumeInfo {
  return {
    name: volume.Name,
    driver: volume.Driver,
    labels: { ...(volume.Labels ?? {}) },
    mountpoint: volume.Mountpoint,
    options: { ...(volume.Options ?? {}) },
  };
}

/** The list's status text carries health as `(healthy)`, `(unhealthy)` or `(health: starting)`. */
const LISTED_HEALTH = /\((healthy|unhealthy|health: starting)\)/;

export function toContainerSummary(listed: Dockerode.ContainerInfo): ContainerSummary {
  const health = LISTED_HEALTH.exec(listed.Status ?? '')?.[1];
  return {
    id: listed.Id,
    name: (listed.Names?.[0] ?? '').replace(/^\//, ''),
    state: (CONTAINER_STATES.has(listed.State) ? listed.State : 'dead') as ContainerInfo['state'],
    health:
      health === undefined
        ? 'none'
        : health === 'health: starting'
          ? 'starting'
          : (health as ContainerInfo['health']),
    labels: listed.Labels ?? {},
  };
}
