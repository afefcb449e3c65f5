/**
 * EngineAdapter over the Docker Engine API (any Docker-compatible engine: Docker, balenaEngine, Moby).
 * Every request goes through EngineHttp (typed, counted); every failure leaves as a BosunError
 * (docker-errors.ts). Nothing here polls: reads happen when asked, events arrive on one long-lived
 * connection (resilient-events.ts), and pull progress is pushed by the engine on the pull's stream.
 */
import type Dockerode from 'dockerode';
import type { EventFeed } from '../shared/event-feed.js';
import type {
  ContainerCreateSpec,
  NetworkCreateSpec,
  VolumeCreateSpec,
} from '../domain/container-spec.js';
import type { ImageConfigInspect } from '../domain/adoption.js';
import type { Clock } from '../shared/clock.js';
import { BosunError, errorMessage, isBosunError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { dockerContainerLogs } from './docker-container-logs.js';
import { translateDockerError, translatePullError } from './docker-errors.js';
import {
  imageInfoFromInspect,
  imageInfoFromList,
  toContainerInfo,
  toContainerSummary,
  toNetworkInfo,
  toVolumeInfo,
} from './docker-mapping.js';
import {
  labelFilter,
  layersFrom,
  pullErrorText,
  registryAuthHeader,
  storageInfoFrom,
} from './docker-helpers.js';
import { EngineHttp, segment, type EngineConnection, type EngineRequest } from './engine-http.js';
import { withDefaultTag } from './image-reference.js';
import { parseJsonObject, textLines } from './json-lines.js';
import { PullProgressTracker } from './pull-progress.js';
import { resilientEventStream } from './resilient-events.js';
import { mapBounded } from '../shared/map-bounded.js';
import type {
  ContainerInfo,
  ContainerLogLine,
  ContainerLogsOptions,
  ContainerSummary,
  EngineAdapter,
  EngineStorageInfo,
  EngineEvent,
  ImageInfo,
  NetworkInfo,
  PullOptions,
  VolumeInfo,
} from './port.js';

export interface DockerEngineOptions extends EngineConnection {
  logger: Logger;
  clock: Clock;
  /** Reconnect backoff of the event stream (default 100 ms doubling to 5 s). */
  eventBackoff?: { initialMs: number; maxMs: number };
  /** How many inspects a list runs at once (default 8): bounded so a big device does not flood the engine. */
  inspectConcurrency?: number;
}

type RestartPolicyName = 'no' | 'always' | 'on-failure' | 'unless-stopped';

export class DockerEngine implements EngineAdapter {
  private readonly http: EngineHttp;
  private readonly logger: Logger;
  private readonly closed = new AbortController();
  private readonly eventStream: EventFeed<EngineEvent>;
  private readonly inspectConcurrency: number;

  constructor(options: DockerEngineOptions) {
    this.http = new EngineHttp(options);
    this.logger = options.logger.child({ component: 'engine' });
    this.inspectConcurrency = options.inspectConcurrency ?? 8;
    this.eventStream = resilientEventStream({
      open: (since, signal) =>
        this.http.stream({ method: 'GET', path: '/events', query: { since }, ok: [200], signal }),
      clock: options.clock,
      logger: this.logger,
      closed: this.closed.signal,
      ...(options.eventBackoff === undefined ? {} : { backoff: options.eventBackoff }),
    });
  }

  /** Engine API requests made so far (one per HTTP request, streams included). */
  requestCount(): number {
    return this.http.requests;
  }

  private async call<T>(what: string, request: EngineRequest): Promise<T> {
    try {
      return await this.http.json<T>(request);
    } catch (err) {
      throw translateDockerError(err, what);
    }
  }

  // ───────────────────────────── engine ─────────────────────────────

  async ping(): Promise<void> {
    try {
      await this.http.json({ method: 'GET', path: '/_ping', ok: [200] });
    } catch (err) {
      throw new BosunError('ENGINE_UNREACHABLE', `engine ping failed: ${errorMessage(err)}`, {
        cause: err,
      });
    }
  }

  async version(): Promise<{ version: string; apiVersion: string; arch: string; os: string }> {
    const v = await this.call<{ Version: string; ApiVersion: string; Arch: string; Os: string }>(
      'engine version',
      {
        method: 'GET',
        path: '/version',
        ok: [200],
      },
    );
    return { version: v.Version, apiVersion: v.ApiVersion, arch: v.Arch, os: v.Os };
  }

  async storageInfo(): Promise<EngineStorageInfo> {
    return storageInfoFrom(
      await this.call('engine info', { method: 'GET', path: '/info', ok: [200] }),
    );
  }

  // ───────────────────────────── containers ─────────────────────────────

  async listContainers(filter: { labels?: string[] } = {}): Promise<ContainerInfo[]> {
    const summaries = await this.call<Array<{ Id: string }>>('list containers', {
      method: 'GET',
      path: '/containers/json',
      query: { all: true, ...labelFilter(filter.labels) },
      ok: [200],
    });
    // The list lacks env, restart policy, health detail and exit times: inspect each (bounded).
    const infos = await mapBounded(summaries, this.inspectConcurrency, (s) =>
      this.inspectContainer(s.Id).catch((err: unknown) => {
        if (isBosunError(err, 'NOT_FOUND')) return undefined; // removed between list and inspect
        throw err;
      }),
    );
    return infos.filter((i): i is ContainerInfo => i !== undefined);
  }

  async listContainerSummaries(filter: { labels?: string[] } = {}): Promise<ContainerSummary[]> {
    const listed = await this.call<Dockerode.ContainerInfo[]>('list containers', {
      method: 'GET',
      path: '/containers/json',
      query: { all: true, ...labelFilter(filter.labels) },
      ok: [200],
    });
    return listed.map(toContainerSummary);
  }

  async inspectContainer(idOrName: string): Promise<ContainerInfo> {
    const inspect = await this.call<Dockerode.ContainerInspectInfo>(
      `inspect container ${idOrName}`,
      {
        method: 'GET',
        path: `/containers/${segment(idOrName)}/json`,
        ok: [200],
      },
    );
    return toContainerInfo(inspect);
  }

  async createContainer(spec: ContainerCreateSpec): Promise<{ id: string }> {
    const { name, ...body } = spec;
    const created = await this.call<{ Id: string }>(`create container ${name}`, {
      method: 'POST',
      path: '/containers/create',
      query: { name },
      body,
      ok: [200, 201],
    });
    return { id: created.Id };
  }

  async startContainer(id: string): Promise<void> {
    // 304: already running, which is what the caller wanted.
    await this.call(`start container ${id}`, {
      method: 'POST',
      path: `/containers/${segment(id)}/start`,
      ok: [204, 304],
    });
  }

  async stopContainer(
    id: string,
    options: { timeoutSec?: number; signal?: AbortSignal } = {},
  ): Promise<void> {
    await this.call(`stop container ${id}`, {
      method: 'POST',
      path: `/containers/${segment(id)}/stop`,
      query: options.timeoutSec === undefined ? {} : { t: options.timeoutSec },
      ok: [204, 304], // 304: already stopped
      // The engine answers only after the grace period (default 10 s) and the kill that follows it.
      extraTimeMs: (options.timeoutSec ?? 10) * 1000,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }

  async killContainer(id: string, signal = 'SIGKILL'): Promise<void> {
    await this.call(`kill container ${id}`, {
      method: 'POST',
      path: `/containers/${segment(id)}/kill`,
      query: { signal },
      ok: [204],
    });
  }

  async removeContainer(
    id: string,
    options: { force?: boolean; removeVolumes?: boolean } = {},
  ): Promise<void> {
    await this.call(`remove container ${id}`, {
      method: 'DELETE',
      path: `/containers/${segment(id)}`,
      query: { force: options.force ?? false, v: options.removeVolumes ?? false },
      ok: [204],
    });
  }

  async renameContainer(id: string, newName: string): Promise<void> {
    await this.call(`rename container ${id} to ${newName}`, {
      method: 'POST',
      path: `/containers/${segment(id)}/rename`,
      query: { name: newName },
      ok: [204],
    });
  }

  async updateRestartPolicy(id: string, policy: RestartPolicyName): Promise<void> {
    await this.call(`set restart policy of container ${id} to ${policy}`, {
      method: 'POST',
      path: `/containers/${segment(id)}/update`,
      body: { RestartPolicy: { Name: policy } },
      ok: [200],
    });
  }

  async connectNetwork(
    network: string,
    containerId: string,
    endpoint: { aliases?: string[]; ipv4Address?: string; ipv6Address?: string } = {},
  ): Promise<void> {
    const ipam = {
      ...(endpoint.ipv4Address === undefined ? {} : { IPv4Address: endpoint.ipv4Address }),
      ...(endpoint.ipv6Address === undefined ? {} : { IPv6Address: endpoint.ipv6Address }),
    };
    await this.call(`connect container ${containerId} to network ${network}`, {
      method: 'POST',
      path: `/networks/${segment(network)}/connect`,
      body: {
        Container: containerId,
        EndpointConfig: {
          ...(endpoint.aliases === undefined ? {} : { Aliases: endpoint.aliases }),
          ...(Object.keys(ipam).length === 0 ? {} : { IPAMConfig: ipam }),
        },
      },
      ok: [200],
    });
  }

  async disconnectNetwork(network: string, containerId: string, force = false): Promise<void> {
    await this.call(`disconnect container ${containerId} from network ${network}`, {
      method: 'POST',
      path: `/networks/${segment(network)}/disconnect`,
      body: { Container: containerId, Force: force },
      ok: [200],
    });
  }

  containerLogs(id: string, options?: ContainerLogsOptions): AsyncIterable<ContainerLogLine> {
    return dockerContainerLogs(this.http, id, options);
  }

  // ───────────────────────────── images ─────────────────────────────

  async pullImage(reference: string, options: PullOptions = {}): Promise<ImageInfo> {
    const ref = withDefaultTag(reference);
    // close() ends pulls in flight too: a closed adapter holds no engine connection.
    const signal =
      options.signal === undefined
        ? this.closed.signal
        : AbortSignal.any([options.signal, this.closed.signal]);
    if (signal.aborted)
      throw new BosunError('CANCELLED', `pull ${ref}: cancelled before it started`);
    const tracker = new PullProgressTracker(ref);
    const log = this.logger.child({ image: ref });
    log.info('engine.pull.start', { auth: options.auth !== undefined });
    let body: Awaited<ReturnType<EngineHttp['stream']>> | undefined;
    // Destroying the response is what makes the engine stop downloading (it cancels a pull whose client left).
    const onAbort = (): void => {
      body?.destroy();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      body = await this.http.stream({
        method: 'POST',
        path: '/images/create',
        query: { fromImage: ref },
        ok: [200],
        signal,
        ...(options.auth === undefined ? {} : { auth: registryAuthHeader(options.auth) }),
      });
      for await (const line of textLines(body)) {
        const message = parseJsonObject(line);
        if (message === undefined) continue;
        if (message['error'] !== undefined || message['errorDetail'] !== undefined) {
          throw new Error(pullErrorText(message));
        }
        const progress = tracker.update(message);
        if (progress !== undefined) this.report(options, progress);
      }
      if (signal.aborted) throw new BosunError('CANCELLED', `pull ${ref}: cancelled`);
    } catch (err) {
      const translated = signal.aborted
        ? new BosunError('CANCELLED', `pull ${ref}: cancelled`, { cause: err })
        : translatePullError(err, ref);
      log.warn('engine.pull.failed', { code: translated.code, error: translated.message });
      throw translated;
    } finally {
      signal.removeEventListener('abort', onAbort);
      body?.destroy();
    }
    this.report(options, tracker.complete());
    log.info('engine.pull.done');
    return this.inspectImage(ref);
  }

  /** A consumer's progress callback must not break the pull it watches. */
  private report(
    options: PullOptions,
    progress: Parameters<NonNullable<PullOptions['onProgress']>>[0],
  ): void {
    try {
      options.onProgress?.(progress);
    } catch (err) {
      this.logger.warn('engine.pull.progress-callback-failed', { error: errorMessage(err) });
    }
  }

  async listImages(): Promise<ImageInfo[]> {
    const images = await this.call<Dockerode.ImageInfo[]>('list images', {
      method: 'GET',
      path: '/images/json',
      ok: [200],
    });
    return images.map(imageInfoFromList);
  }

  private inspectRawImage(reference: string): Promise<Dockerode.ImageInspectInfo> {
    const path = `/images/${segment(reference)}/json`;
    return this.call(`inspect image ${reference}`, { method: 'GET', path, ok: [200] });
  }

  async inspectImage(reference: string): Promise<ImageInfo> {
    return imageInfoFromInspect(await this.inspectRawImage(reference));
  }

  async imageLayers(reference: string): Promise<string[]> {
    return layersFrom(await this.inspectRawImage(reference));
  }

  async inspectImageConfig(reference: string): Promise<ImageConfigInspect> {
    const image = await this.inspectRawImage(reference);
    // Same nullability caveat as a container's inspect (docker-mapping.ts).
    return (image.Config ?? {}) as unknown as ImageConfigInspect;
  }

  async tagImage(reference: string, repo: string, tag: string): Promise<void> {
    await this.call(`tag image ${reference} as ${repo}:${tag}`, {
      method: 'POST',
      path: `/images/${segment(reference)}/tag`,
      query: { repo, tag },
      ok: [200, 201],
    });
  }

  async removeImage(reference: string, options: { force?: boolean } = {}): Promise<void> {
    await this.call(`remove image ${reference}`, {
      method: 'DELETE',
      path: `/images/${segment(reference)}`,
      query: { force: options.force ?? false },
      ok: [200],
    });
  }

  // ───────────────────────────── networks ─────────────────────────────

  async listNetworks(
    filter: { labels?: string[]; attached?: boolean } = {},
  ): Promise<NetworkInfo[]> {
    const networks = await this.call<Dockerode.NetworkInspectInfo[]>('list networks', {
      method: 'GET',
      path: '/networks',
      query: labelFilter(filter.labels),
      ok: [200],
    });
    if (filter.attached === false) return networks.map(toNetworkInfo);
    // The list leaves out attached containers (API ≥ 1.28): inspect each.
    const infos = await mapBounded(networks, this.inspectConcurrency, (n) =>
      this.inspectNetwork(n.Id).catch((err: unknown) => {
        if (isBosunError(err, 'NOT_FOUND')) return undefined;
        throw err;
      }),
    );
    return infos.filter((i): i is NetworkInfo => i !== undefined);
  }

  async inspectNetwork(idOrName: string): Promise<NetworkInfo> {
    const network = await this.call<Dockerode.NetworkInspectInfo>(`inspect network ${idOrName}`, {
      method: 'GET',
      path: `/networks/${segment(idOrName)}`,
      ok: [200],
    });
    return toNetworkInfo(network);
  }

  async createNetwork(spec: NetworkCreateSpec): Promise<{ id: string }> {
    const created = await this.call<{ Id: string }>(`create network ${spec.Name}`, {
      method: 'POST',
      path: '/networks/create',
      // Without CheckDuplicate the engine happily makes two networks with one name.
      body: { ...spec, CheckDuplicate: true },
      ok: [200, 201],
    });
    return { id: created.Id };
  }

  async removeNetwork(idOrName: string): Promise<void> {
    await this.call(`remove network ${idOrName}`, {
      method: 'DELETE',
      path: `/networks/${segment(idOrName)}`,
      ok: [200, 204],
    });
  }

  // ───────────────────────────── volumes ─────────────────────────────

  async listVolumes(filter: { labels?: string[] } = {}): Promise<VolumeInfo[]> {
    const list = await this.call<{ Volumes: Dockerode.VolumeInspectInfo[] | null }>(
      'list volumes',
      {
        method: 'GET',
        path: '/volumes',
        query: labelFilter(filter.labels),
        ok: [200],
      },
    );
    return (list.Volumes ?? []).map(toVolumeInfo);
  }

  async inspectVolume(name: string): Promise<VolumeInfo> {
    const volume = await this.call<Dockerode.VolumeInspectInfo>(`inspect volume ${name}`, {
      method: 'GET',
      path: `/volumes/${segment(name)}`,
      ok: [200],
    });
    return toVolumeInfo(volume);
  }

  async createVolume(spec: VolumeCreateSpec): Promise<VolumeInfo> {
    const volume = await this.call<Dockerode.VolumeInspectInfo>(`create volume ${spec.Name}`, {
      method: 'POST',
      path: '/volumes/create',
      body: spec,
      ok: [200, 201],
    });
    return toVolumeInfo(volume);
  }

  async removeVolume(name: string): Promise<void> {
    await this.call(`remove volume ${name}`, {
      method: 'DELETE',
      path: `/volumes/${segment(name)}`,
      ok: [204],
    });
  }

  // ───────────────────────────── events, lifecycle ─────────────────────────────

  events(): EventFeed<EngineEvent> {
    return this.eventStream;
  }

  close(): Promise<void> {
    this.closed.abort();
    this.http.close();
    return Promise.resolve();
  }
}
