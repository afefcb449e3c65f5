/**
 * What inspect shows of a FakeEngine container: the same shape DockerEngine maps from the real engine
 * (networks with aliases and an address while running, volume/bind/tmpfs mounts, exit code once exited).
 */
import { createHash } from 'node:crypto';
import type { ContainerInspect } from '../../../src/domain/adoption.js';
import type { ContainerCreateSpec } from '../../../src/domain/container-spec.js';
import type { FakeContainer } from './fake-engine-state.js';
import type { ContainerInfo } from '../../../src/engine/port.js';

export function fakeContainerInfo(
  c: FakeContainer,
  networkIdOf: (name: string) => string | undefined,
): ContainerInfo {
  const networks: ContainerInfo['networks'] = {};
  for (const [name, endpoint] of c.networks) {
    networks[name] = {
      networkId: networkIdOf(name) ?? '',
      aliases: [...endpoint.aliases],
      ipAddress:
        c.state === 'running' && name !== 'host' && name !== 'none'
          ? (endpoint.ipv4Address ?? fakeIp(c, name))
          : undefined,
    };
  }
  return {
    id: c.id,
    name: c.name,
    imageId: c.imageId,
    image: c.spec.Image,
    labels: { ...c.spec.Labels },
    env: [...c.spec.Env],
    state: c.state,
    health: c.health,
    exitCode: c.state === 'exited' || c.state === 'dead' ? c.exitCode : undefined,
    error: undefined,
    createdAt: c.createdAt,
    startedAt: c.startedAt,
    finishedAt: c.finishedAt,
    restartPolicy: c.restartPolicy,
    networks,
    mounts: [
      ...c.volumes.map((name) => ({
        type: 'volume',
        name,
        source: `/var/lib/docker/volumes/${name}/_data`,
        destination: mountTarget(c.spec, name),
      })),
      ...(c.spec.HostConfig.Binds ?? [])
        .filter((b) => b.startsWith('/'))
        .map((b) => ({
          type: 'bind',
          name: undefined,
          source: b.split(':')[0] ?? '',
          destination: b.split(':')[1] ?? '',
        })),
      ...(c.spec.HostConfig.Mounts ?? [])
        .filter((m) => m.Type !== 'volume')
        .map((m) => ({
          type: m.Type,
          name: undefined,
          source: m.Source ?? '',
          destination: m.Target,
        })),
    ],
    raw: fakeRawInspect(c),
  };
}

/**
 * The engine's inspect as the create spec makes it. Fake images carry no config to merge in, so Config is
 * the spec's own; the hostname defaults to the short id and the restart policy is the current one, as in
 * Docker.
 */
function fakeRawInspect(c: FakeContainer): ContainerInspect {
  const {
    name: _name,
    HostConfig,
    NetworkingConfig: _networking,
    ...config
  } = structuredClone(c.spec);
  const networks: NonNullable<NonNullable<ContainerInspect['NetworkSettings']>['Networks']> = {};
  for (const [name, endpoint] of c.networks) {
    networks[name] = {
      Aliases: [...endpoint.aliases],
      IPAMConfig: endpoint.ipv4Address === undefined ? null : { IPv4Address: endpoint.ipv4Address },
    };
  }
  return {
    Id: c.id,
    Name: `/${c.name}`,
    Config: { ...config, Hostname: config.Hostname ?? c.id.slice(0, 12) },
    HostConfig: {
      ...HostConfig,
      RestartPolicy: {
        Name: c.restartPolicy,
        MaximumRetryCount: HostConfig.RestartPolicy.MaximumRetryCount ?? 0,
      },
    },
    NetworkSettings: { Networks: networks },
  };
}

function mountTarget(spec: ContainerCreateSpec, volume: string): string {
  const mount = (spec.HostConfig.Mounts ?? []).find(
    (m) => m.Type === 'volume' && m.Source === volume,
  );
  if (mount) return mount.Target;
  const bind = (spec.HostConfig.Binds ?? []).find((b) => b.split(':')[0] === volume);
  return bind?.split(':')[1] ?? '';
}

/** Stable per container and network, in a private range, only while running (as the engine reports). */
function fakeIp(c: FakeContainer, network: string): string {
  const hash = createHash('sha256').update(`${c.id}:${network}`).digest();
  return `172.${18 + ((hash[0] ?? 0) % 10)}.${hash[1] ?? 0}.${2 + ((hash[2] ?? 0) % 250)}`;
}
