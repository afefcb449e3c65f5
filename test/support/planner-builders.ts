/**
 * Builders of planner inputs (targets, current states, containers, images) so planner tests do not
 * depend on target normalisation or on an engine. Defaults are the simplest valid values; every
 * builder takes overrides.
 */
import type { ContainerCreateSpec } from '../../src/domain/container-spec.js';
import type {
  AppTarget,
  ContainerState,
  CurrentState,
  ImageState,
  NetworkState,
  NetworkTarget,
  ReleaseTarget,
  ServiceTarget,
  TargetState,
  VolumeState,
  VolumeTarget,
} from '../../src/domain/model.js';

/** A stable fake engine image id for an image reference (FNV-1a, hex). */
export function imageIdOf(ref: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < ref.length; i++) {
    h ^= ref.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `sha256:${h.toString(16).padStart(8, '0')}`;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export interface AppIdentity {
  uuid: string;
  appId: number;
}

export const APP_A: AppIdentity = { uuid: 'aaaa', appId: 1 };
export const APP_B: AppIdentity = { uuid: 'bbbb', appId: 2 };

export interface ServiceOptions extends Partial<
  Omit<ServiceTarget, 'createSpec' | 'containerName'>
> {
  /** Restart policy in the create spec (default `always`). */
  restart?: ContainerCreateSpec['HostConfig']['RestartPolicy']['Name'];
  /** Container labels (the simulation treats `test.oneshot` as a service that exits 0 when started). */
  labels?: Record<string, string>;
  healthcheck?: boolean;
}

export interface ReleaseIdentity {
  app: AppIdentity;
  commit: string;
  releaseId: number;
}

export function service(rel: ReleaseIdentity, name: string, o: ServiceOptions = {}): ServiceTarget {
  const imageId = o.imageId ?? rel.app.appId * 1000 + name.length * 10 + rel.releaseId;
  const image = o.image ?? `registry.test/${name}:${rel.commit}`;
  const networkMode = o.networkMode ?? `${rel.app.uuid}_default`;
  const networks = o.networks ?? (networkMode === 'host' ? [] : ['default']);
  const containerName = `${name}_${imageId}_${rel.releaseId}_${rel.commit}`;
  const createSpec: ContainerCreateSpec = {
    name: containerName,
    Image: image,
    Env: [],
    Labels: { 'io.balena.supervised': 'true', 'io.balena.service-name': name, ...(o.labels ?? {}) },
    Tty: true,
    ...(o.healthcheck ? { Healthcheck: { Test: ['CMD', 'true'] } } : {}),
    HostConfig: { NetworkMode: networkMode, RestartPolicy: { Name: o.restart ?? 'always' } },
  };
  return {
    serviceName: name,
    serviceId: o.serviceId ?? name.length,
    imageId,
    image,
    running: o.running ?? true,
    dependsOn: o.dependsOn ?? {},
    updateStrategy: o.updateStrategy ?? 'download-then-kill',
    handoverTimeoutMs: o.handoverTimeoutMs ?? 60000,
    stopTimeoutSec: o.stopTimeoutSec ?? 10,
    networkMode,
    networks,
    volumes: o.volumes ?? [],
    requiresReboot: o.requiresReboot ?? false,
    containerName,
    configHash: o.configHash ?? 'cfg1',
    createSpec,
  };
}

export function network(app: AppIdentity, name: string, configHash = 'net1'): NetworkTarget {
  const engineName = `${app.uuid}_${name}`;
  return {
    name,
    engineName,
    configHash,
    createSpec: { Name: engineName, Driver: 'bridge', Labels: { 'io.balena.supervised': 'true' } },
  };
}

export function volume(app: AppIdentity, name: string, configHash = 'vol1'): VolumeTarget {
  const engineName = `${app.appId}_${name}`;
  return {
    name,
    engineName,
    configHash,
    createSpec: { Name: engineName, Driver: 'local', Labels: {} },
  };
}

export interface ReleaseOptions {
  services: ServiceTarget[];
  networks?: NetworkTarget[];
  volumes?: VolumeTarget[];
}

export function release(rel: ReleaseIdentity, o: ReleaseOptions): ReleaseTarget {
  const networks = o.networks ?? [network(rel.app, 'default')];
  return {
    commit: rel.commit,
    releaseId: rel.releaseId,
    services: Object.fromEntries(o.services.map((s) => [s.serviceName, s])),
    networks: Object.fromEntries(networks.map((n) => [n.name, n])),
    volumes: Object.fromEntries((o.volumes ?? []).map((v) => [v.name, v])),
  };
}

export function app(
  identity: AppIdentity,
  rel: ReleaseTarget | undefined,
  source: 'cloud' | 'local' = 'cloud',
): AppTarget {
  return {
    uuid: identity.uuid,
    appId: identity.appId,
    name: `app-${identity.uuid}`,
    class: 'fleet',
    isHost: false,
    source,
    ...(rel === undefined ? {} : { release: rel }),
  };
}

export function target(...apps: AppTarget[]): TargetState {
  return { name: 'device', config: {}, apps: Object.fromEntries(apps.map((a) => [a.uuid, a])) };
}

export function emptyCurrent(): CurrentState {
  return {
    containers: [],
    images: [],
    networks: [],
    volumes: [],
    locks: [],
    downloads: [],
    handoverComplete: [],
    commits: {},
  };
}

export function image(ref: string): ImageState {
  return { id: imageIdOf(ref), repoTags: [ref], repoDigests: [], labels: {}, createdAt: iso(0) };
}

export interface ContainerOptions extends Partial<ContainerState> {
  /** Engine names of the app networks/volumes the container uses (default: from the service). */
  release?: ReleaseTarget;
}

/** The container a service's target produces, running; override any field. */
export function containerFor(
  appIdentity: AppIdentity,
  s: ServiceTarget,
  o: ContainerOptions = {},
): ContainerState {
  const rel = o.release;
  const networks =
    s.networkMode === 'host'
      ? ['host']
      : s.networks.map((n) => rel?.networks[n]?.engineName ?? `${appIdentity.uuid}_${n}`);
  const volumes = s.volumes.map((v) => rel?.volumes[v]?.engineName ?? `${appIdentity.appId}_${v}`);
  const [, , releaseId, commit] = s.containerName.split('_');
  const { release: _unused, ...overrides } = o;
  return {
    id: `id-${s.containerName}`,
    name: s.containerName,
    appId: appIdentity.appId,
    appUuid: appIdentity.uuid,
    serviceName: s.serviceName,
    serviceId: s.serviceId,
    imageId: s.imageId,
    releaseId: Number(releaseId),
    commit: commit ?? '',
    engineImageId: imageIdOf(s.image),
    configHash: s.configHash,
    status: 'running',
    health: s.createSpec.Healthcheck ? 'healthy' : 'none',
    exitCode: undefined,
    createdAt: iso(1000),
    startedAt: iso(1000),
    networks,
    volumes,
    handoverOld: false,
    restartPolicy: s.createSpec.HostConfig.RestartPolicy.Name || 'no',
    ...overrides,
  };
}

export function networkState(
  appIdentity: AppIdentity,
  n: NetworkTarget,
  configHash = n.configHash,
): NetworkState {
  return {
    id: `net-${n.engineName}`,
    engineName: n.engineName,
    appUuid: appIdentity.uuid,
    appId: appIdentity.appId,
    configHash,
    labels: {},
  };
}

export function volumeState(appIdentity: AppIdentity, v: VolumeTarget): VolumeState {
  return {
    engineName: v.engineName,
    appId: appIdentity.appId,
    appUuid: appIdentity.uuid,
    configHash: v.configHash,
    labels: {},
  };
}

/**
 * The current state of a device that has fully applied `t`: every service's container exists
 * (running, or exited 0 for one-shots and not-running services), images, networks and volumes exist,
 * commits are recorded, no locks held.
 */
export function materialise(t: TargetState, at = 1000): CurrentState {
  const state = emptyCurrent();
  const containers: ContainerState[] = [];
  const images = new Map<string, ImageState>();
  const networks: NetworkState[] = [];
  const volumes: VolumeState[] = [];
  const commits: Record<string, string> = {};
  for (const a of Object.values(t.apps)) {
    const rel = a.release;
    if (rel === undefined) continue;
    const identity = { uuid: a.uuid, appId: a.appId };
    commits[a.uuid] = rel.commit;
    for (const n of Object.values(rel.networks)) networks.push(networkState(identity, n));
    for (const v of Object.values(rel.volumes)) volumes.push(volumeState(identity, v));
    for (const s of Object.values(rel.services)) {
      images.set(s.image, image(s.image));
      const oneshot = s.createSpec.Labels['test.oneshot'] !== undefined;
      const running = s.running && !oneshot;
      containers.push(
        containerFor(identity, s, {
          release: rel,
          status: running ? 'running' : s.running ? 'exited' : 'created',
          exitCode: running || !s.running ? undefined : 0,
          startedAt: s.running ? iso(at) : undefined,
          createdAt: iso(at),
        }),
      );
    }
  }
  return { ...state, containers, images: [...images.values()], networks, volumes, commits };
}
