/**
 * FakeEngine: an in-memory EngineAdapter for planner simulation and property tests. Fast (no I/O; the
 * only waits are a stop timeout on the injected clock and a macrotask between pull chunks, so an abort
 * can land half way) and deterministic (ids come from a counter). Honest: it passes the same contract
 * suite as DockerEngine (test/contract/engine.contract.ts), so what a simulation shows, Docker does.
 *
 * Test hooks beyond the port: failNext(), crash(), setHealth(), writeLog(), simulateEngineRestart(),
 * and `registry` (what can be pulled).
 */
import { createHash } from 'node:crypto';
import type {
  ContainerCreateSpec,
  NetworkCreateSpec,
  VolumeCreateSpec,
} from '../../../src/domain/container-spec.js';
import type { ImageConfigInspect } from '../../../src/domain/adoption.js';
import { systemClock, type Clock } from '../../../src/shared/clock.js';
import { BosunError, type ErrorCode } from '../../../src/shared/errors.js';
import { EventHub, type EventFeed } from '../../../src/shared/event-feed.js';
import {
  formatEngineTimestamp,
  parseEngineTimestamp,
} from '../../../src/shared/engine-timestamp.js';
import {
  assertValidName,
  matchesLabels,
  namedVolumesOf,
  notFound,
  resolveBy,
  signalNumber,
  type FakeContainer,
  type FakeProcess,
} from './fake-engine-state.js';
import { fakeContainerInfo } from './fake-container-info.js';
import { FakeImageStore } from './fake-images.js';
import { FakeNetworkStore } from './fake-networks.js';
import { FakeVolumeStore } from './fake-volumes.js';
import { FakeRegistry, type FakeImageInput } from './fake-registry.js';
import { withDefaultTag } from '../../../src/engine/image-reference.js';
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
} from '../../../src/engine/port.js';

export type { FakeProcess } from './fake-engine-state.js';

/** Port operations whose next call(s) can be made to fail. */
export type FakeOperation = Exclude<keyof EngineAdapter, 'events' | 'close'>;

export interface FakeEngineOptions {
  clock?: Clock;
  registry?: FakeRegistry;
  /** How a container's process reacts to signals (default: exits 0 on SIGTERM). */
  processFor?: (spec: ContainerCreateSpec) => FakeProcess;
}

const DEFAULT_STOP_TIMEOUT_SEC = 10;

export class FakeEngine implements EngineAdapter {
  readonly registry: FakeRegistry;
  private readonly clock: Clock;
  private readonly processFor: (spec: ContainerCreateSpec) => FakeProcess;
  private readonly containers = new Map<string, FakeContainer>();
  private readonly networks: FakeNetworkStore;
  private readonly volumes: FakeVolumeStore;
  private readonly images: FakeImageStore;
  private readonly failures = new Map<FakeOperation, BosunError[]>();
  private readonly eventSubject = new EventHub<EngineEvent>();
  private readonly logWaiters = new Set<() => void>();
  private idCounter = 0;
  private requests = 0;
  private logSeq = 0;

  constructor(options: FakeEngineOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.registry = options.registry ?? new FakeRegistry();
    this.processFor = options.processFor ?? (() => ({}));
    this.images = new FakeImageStore(this.clock, (event) => this.emit(event));
    this.volumes = new FakeVolumeStore(this.clock, (event) => this.emit(event));
    this.networks = new FakeNetworkStore({
      clock: this.clock,
      emit: (event) => this.emit(event),
      newId: (seed) => this.newId(seed),
      runningOn: (name) =>
        [...this.containers.values()]
          .filter((c) => c.state === 'running' && c.networks.has(name))
          .map((c) => c.id),
    });
  }

  // ───────────────────────────── test hooks ─────────────────────────────

  /** The next `times` calls of `op` fail with `error` (a code gets a generic message). */
  failNext(op: FakeOperation, error: BosunError | ErrorCode, times = 1): void {
    const err =
      typeof error === 'string' ? new BosunError(error, `injected ${error} in ${op}`) : error;
    const queue = this.failures.get(op) ?? [];
    for (let i = 0; i < times; i++) queue.push(err);
    this.failures.set(op, queue);
  }

  /** What DockerEngine would have sent as HTTP requests for the same calls (lists inspect each item). */
  requestCount(): number {
    return this.requests;
  }

  /**
   * The process exits by itself. The engine then applies the restart policy as Docker does: after a
   * delay on the injected clock that doubles with each restart (100 ms, 200 ms, … up to 1 min).
   * Resolves once the container is running again, or at once when the policy does not restart it.
   */
  crash(idOrName: string, exitCode: number): Promise<void> {
    const c = this.container(idOrName);
    if (c.state !== 'running') throw new BosunError('CONFLICT', `Container ${c.id} is not running`);
    return this.selfExit(c, exitCode);
  }

  private async selfExit(c: FakeContainer, exitCode: number): Promise<void> {
    this.exit(c, exitCode);
    const policy = c.restartPolicy;
    const restarts =
      policy === 'always' ||
      policy === 'unless-stopped' ||
      (policy === 'on-failure' && exitCode !== 0);
    if (!restarts) return;
    c.state = 'restarting';
    const delay = Math.min(60_000, 100 * 2 ** Math.min(c.restartCount++, 10));
    await this.clock.sleep(delay);
    // A user may have stopped or removed it meanwhile: the engine does not bring those back.
    if (this.containers.get(c.id) === c && c.state === 'restarting') this.run(c);
  }

  /** Puts an image in the engine as if pulled long ago (no events, no request counted). */
  loadImage(reference: string, input: FakeImageInput = {}): ImageInfo {
    const ref = withDefaultTag(reference);
    this.images.store(ref, this.registry.lookup(ref) ?? new FakeRegistry().add(ref, input));
    return this.images.inspect(ref);
  }

  /** A healthcheck result: changes inspect's `health` and emits `health_status: <status>`. */
  setHealth(idOrName: string, health: ContainerInfo['health']): void {
    const c = this.container(idOrName);
    c.health = health;
    this.emitContainer(c, `health_status: ${health}`);
  }

  /** A line the container printed (what containerLogs returns). */
  writeLog(idOrName: string, line: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
    const c = this.container(idOrName);
    c.logs.push({ stream, line, timestamp: this.engineTimestamp() });
    this.wakeLogReaders();
  }

  /**
   * The engine restarts (no live-restore): subscribers see `disconnected`, running containers stop,
   * those whose policy says so come back, then `reconnected`.
   */
  simulateEngineRestart(): void {
    this.eventSubject.next({
      type: 'disconnected',
      time: this.clock.now(),
      reason: 'engine restarted',
    });
    for (const c of this.containers.values()) {
      if (c.state !== 'running') continue;
      c.state = 'exited';
      c.exitCode = 137;
      c.finishedAt = this.now();
      const policy = c.restartPolicy;
      if (policy === 'always' || (policy === 'unless-stopped' && !c.manuallyStopped)) {
        c.state = 'running';
        c.exitCode = undefined;
        c.startedAt = this.now();
      }
    }
    this.wakeLogReaders();
    this.eventSubject.next({ type: 'reconnected', time: this.clock.now() });
  }

  // ───────────────────────────── engine ─────────────────────────────

  ping(): Promise<void> {
    return this.op('ping', () => undefined);
  }

  version(): Promise<{ version: string; apiVersion: string; arch: string; os: string }> {
    return this.op('version', () => ({
      version: 'fake',
      apiVersion: '1.41',
      arch: 'amd64',
      os: 'linux',
    }));
  }

  // ───────────────────────────── containers ─────────────────────────────

  listContainers(filter: { labels?: string[] } = {}): Promise<ContainerInfo[]> {
    return this.op('listContainers', () => {
      const found = [...this.containers.values()].filter((c) =>
        matchesLabels(c.spec.Labels, filter.labels),
      );
      this.requests += found.length;
      return found.map((c) => this.containerInfo(c));
    });
  }

  listContainerSummaries(filter: { labels?: string[] } = {}): Promise<ContainerSummary[]> {
    return this.op('listContainerSummaries', () =>
      [...this.containers.values()]
        .filter((c) => matchesLabels(c.spec.Labels, filter.labels))
        .map((c) => {
          const { id, name, state, health, labels } = this.containerInfo(c);
          return { id, name, state, health, labels };
        }),
    );
  }

  inspectContainer(idOrName: string): Promise<ContainerInfo> {
    return this.op('inspectContainer', () => this.containerInfo(this.container(idOrName)));
  }

  createContainer(spec: ContainerCreateSpec): Promise<{ id: string }> {
    return this.op('createContainer', () => {
      assertValidName('container', spec.name);
      const name = spec.name.replace(/^\//, '');
      const taken = [...this.containers.values()].find((c) => c.name === name);
      if (taken) {
        throw new BosunError(
          'CONFLICT',
          `Conflict. The container name "/${name}" is already in use by container "${taken.id}"`,
        );
      }
      const image = this.images.get(spec.Image);
      const networks = new Map<string, { aliases: string[]; ipv4Address: string | undefined }>();
      const mode = spec.HostConfig.NetworkMode || 'bridge';
      if (!mode.startsWith('container:') && !mode.startsWith('service:')) {
        networks.set(this.networks.get(mode).info.name, { aliases: [], ipv4Address: undefined });
      }
      for (const [net, endpoint] of Object.entries(spec.NetworkingConfig?.EndpointsConfig ?? {})) {
        networks.set(this.networks.get(net).info.name, {
          aliases: [...(endpoint.Aliases ?? [])],
          ipv4Address: endpoint.IPAMConfig?.IPv4Address,
        });
      }
      const volumes = namedVolumesOf(spec);
      for (const volume of volumes) {
        this.volumes.create({ Name: volume, Driver: 'local', Labels: {} }); // the engine creates it
      }
      const c: FakeContainer = {
        id: this.newId(`container:${name}`),
        name,
        spec: structuredClone(spec),
        imageId: image.info.id,
        state: 'created',
        health: 'none',
        exitCode: undefined,
        createdAt: this.now(),
        startedAt: undefined,
        finishedAt: undefined,
        restartPolicy: spec.HostConfig.RestartPolicy.Name || 'no',
        networks,
        volumes,
        process: this.processFor(spec),
        logs: [],
        manuallyStopped: false,
        restartCount: 0,
      };
      this.containers.set(c.id, c);
      this.emitContainer(c, 'create');
      return { id: c.id };
    });
  }

  startContainer(id: string): Promise<void> {
    return this.op('startContainer', () => {
      const c = this.container(id);
      if (c.state === 'running') return; // the engine answers 304: already started
      for (const net of c.networks.keys()) this.networks.get(net); // a removed network fails the start, as in Docker
      c.manuallyStopped = false;
      c.restartCount = 0;
      this.run(c);
    });
  }

  async stopContainer(
    id: string,
    options: { timeoutSec?: number; signal?: AbortSignal } = {},
  ): Promise<void> {
    const c = await this.op('stopContainer', () => this.container(id));
    if (c.state === 'restarting') {
      // Stopping a container the engine is about to restart cancels the restart.
      c.state = 'exited';
      c.manuallyStopped = true;
      return;
    }
    if (c.state !== 'running') return; // 304: already stopped
    c.manuallyStopped = true;
    this.emitContainer(c, 'kill', { signal: '15' });
    if (!c.process.ignoresSigterm) {
      this.exit(c, c.process.exitCodeOnSigterm ?? 0);
    } else {
      const timeoutSec = options.timeoutSec ?? c.spec.StopTimeout ?? DEFAULT_STOP_TIMEOUT_SEC;
      try {
        await this.clock.sleep(timeoutSec * 1000, options.signal);
      } catch (err) {
        throw new BosunError('CANCELLED', `stop container ${id}: cancelled`, { cause: err });
      }
      if (this.containers.get(c.id) !== c || c.state !== 'running') return; // removed or stopped meanwhile
      this.emitContainer(c, 'kill', { signal: '9' });
      this.exit(c, 137);
    }
    this.emitContainer(c, 'stop');
  }

  killContainer(id: string, signal = 'SIGKILL'): Promise<void> {
    return this.op('killContainer', () => {
      const c = this.container(id);
      if (c.state !== 'running') {
        throw new BosunError(
          'CONFLICT',
          `Cannot kill container: ${id}: Container ${c.id} is not running`,
        );
      }
      const number = signalNumber(signal);
      c.manuallyStopped = true;
      this.emitContainer(c, 'kill', { signal: number });
      if (number === '9') this.exit(c, 137);
      else if (number === '15' && !c.process.ignoresSigterm)
        this.exit(c, c.process.exitCodeOnSigterm ?? 0);
    });
  }

  removeContainer(
    id: string,
    options: { force?: boolean; removeVolumes?: boolean } = {},
  ): Promise<void> {
    return this.op('removeContainer', () => {
      const c = this.container(id);
      if (c.state === 'running' || c.state === 'restarting') {
        if (!options.force) {
          throw new BosunError(
            'CONFLICT',
            `You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`,
          );
        }
        this.emitContainer(c, 'kill', { signal: '9' });
        this.exit(c, 137);
      }
      this.containers.delete(c.id);
      this.emitContainer(c, 'destroy');
      this.wakeLogReaders();
    });
  }

  renameContainer(id: string, newName: string): Promise<void> {
    return this.op('renameContainer', () => {
      const c = this.container(id);
      assertValidName('container', newName);
      const name = newName.replace(/^\//, '');
      const taken = [...this.containers.values()].find((o) => o.name === name && o !== c);
      if (taken) {
        throw new BosunError(
          'CONFLICT',
          `Conflict. The container name "/${name}" is already in use by container "${taken.id}"`,
        );
      }
      const oldName = c.name;
      c.name = name;
      this.emitContainer(c, 'rename', { oldName: `/${oldName}` });
    });
  }

  updateRestartPolicy(
    id: string,
    policy: 'no' | 'always' | 'on-failure' | 'unless-stopped',
  ): Promise<void> {
    return this.op('updateRestartPolicy', () => {
      const c = this.container(id);
      c.restartPolicy = policy;
      this.emitContainer(c, 'update');
    });
  }

  connectNetwork(
    network: string,
    containerId: string,
    endpoint: { aliases?: string[]; ipv4Address?: string; ipv6Address?: string } = {},
  ): Promise<void> {
    return this.op('connectNetwork', () => {
      const net = this.networks.get(network);
      const c = this.container(containerId);
      // A stopped container only has network config, which a connect rewrites; a running one has an endpoint.
      if (c.networks.has(net.info.name) && c.state === 'running') {
        throw new BosunError(
          'CONFLICT',
          `endpoint with name ${c.name} already exists in network ${net.info.name}`,
        );
      }
      c.networks.set(net.info.name, {
        aliases: [...(endpoint.aliases ?? [])],
        ipv4Address: endpoint.ipv4Address,
      });
      this.emit({ type: 'network', action: 'connect', id: net.info.id, time: this.clock.now() });
    });
  }

  disconnectNetwork(network: string, containerId: string, _force = false): Promise<void> {
    return this.op('disconnectNetwork', () => {
      const net = this.networks.get(network);
      const c = this.container(containerId);
      if (!c.networks.delete(net.info.name)) {
        throw new BosunError(
          'NOT_FOUND',
          `container ${c.id} is not connected to network ${net.info.name}`,
        );
      }
      this.emit({ type: 'network', action: 'disconnect', id: net.info.id, time: this.clock.now() });
    });
  }

  async *containerLogs(
    id: string,
    options: ContainerLogsOptions = {},
  ): AsyncGenerator<ContainerLogLine> {
    const c = await this.op('containerLogs', () => {
      this.requests++; // inspect, then logs
      return this.container(id);
    });
    const since = options.since === undefined ? undefined : parseEngineTimestamp(options.since);
    let next = 0;
    for (;;) {
      while (next < c.logs.length) {
        const line = c.logs[next++] as ContainerLogLine;
        if (since === undefined || parseEngineTimestamp(line.timestamp) >= since) yield { ...line };
      }
      const gone = this.containers.get(c.id) !== c;
      if (!options.follow || c.state !== 'running' || gone || options.signal?.aborted) return;
      await this.nextLogChange(options.signal);
    }
  }

  // ───────────────────────────── images ─────────────────────────────

  async pullImage(reference: string, options: PullOptions = {}): Promise<ImageInfo> {
    const ref = withDefaultTag(reference);
    const cancelled = (): BosunError => new BosunError('CANCELLED', `pull ${ref}: cancelled`);
    const manifest = await this.op('pullImage', () => {
      this.requests++; // create, then inspect
      if (options.signal?.aborted) throw cancelled();
      const auth = this.registry.authorize(ref, options.auth);
      if (auth !== 'ok') {
        const why =
          auth === 'missing'
            ? 'no basic auth credentials'
            : 'unauthorized: authentication required';
        throw new BosunError(
          'REGISTRY_AUTH',
          `pull ${ref}: the registry refused the credentials (${why})`,
        );
      }
      const found = this.registry.lookup(ref);
      if (found === undefined) {
        throw new BosunError(
          'IMAGE_PULL_FAILED',
          `pull ${ref}: manifest for ${ref} not found: manifest unknown`,
        );
      }
      return found;
    });
    await this.images.download(ref, manifest, options);
    return this.images.inspect(ref);
  }

  listImages(): Promise<ImageInfo[]> {
    return this.op('listImages', () => this.images.list());
  }

  inspectImage(reference: string): Promise<ImageInfo> {
    return this.op('inspectImage', () => this.images.inspect(reference));
  }

  imageLayers(reference: string): Promise<string[]> {
    return this.op('imageLayers', () => [...this.images.get(reference).layers]);
  }

  storageInfo(): Promise<EngineStorageInfo> {
    // Like a default dockerd: its data root, and only loopback registries over plain HTTP.
    return this.op('storageInfo', () => ({ dataRoot: '/var/lib/docker', insecureRegistries: [] }));
  }

  inspectImageConfig(reference: string): Promise<ImageConfigInspect> {
    // Fake images have labels only: that is all a fake container can inherit.
    return this.op('inspectImageConfig', () => ({
      Labels: { ...this.images.inspect(reference).labels },
    }));
  }

  tagImage(reference: string, repo: string, tag: string): Promise<void> {
    return this.op('tagImage', () => this.images.tag(reference, repo, tag));
  }

  removeImage(reference: string, options: { force?: boolean } = {}): Promise<void> {
    return this.op('removeImage', () =>
      this.images.remove(reference, options.force ?? false, (imageId) =>
        [...this.containers.values()].filter((c) => c.imageId === imageId).map((c) => c.id),
      ),
    );
  }

  // ───────────────────────────── networks ─────────────────────────────

  listNetworks(filter: { labels?: string[]; attached?: boolean } = {}): Promise<NetworkInfo[]> {
    return this.op('listNetworks', () => {
      const found = this.networks.list(filter.labels);
      // DockerEngine inspects each listed network, unless asked not to (then no attached containers).
      if (filter.attached === false) return found.map((n) => ({ ...n, containers: [] }));
      this.requests += found.length;
      return found;
    });
  }

  inspectNetwork(idOrName: string): Promise<NetworkInfo> {
    return this.op('inspectNetwork', () => this.networks.inspect(idOrName));
  }

  createNetwork(spec: NetworkCreateSpec): Promise<{ id: string }> {
    return this.op('createNetwork', () => ({ id: this.networks.create(spec) }));
  }

  removeNetwork(idOrName: string): Promise<void> {
    return this.op('removeNetwork', () => this.networks.remove(idOrName));
  }

  // ───────────────────────────── volumes ─────────────────────────────

  listVolumes(filter: { labels?: string[] } = {}): Promise<VolumeInfo[]> {
    return this.op('listVolumes', () => this.volumes.list(filter.labels));
  }

  inspectVolume(name: string): Promise<VolumeInfo> {
    return this.op('inspectVolume', () => this.volumes.inspect(name));
  }

  createVolume(spec: VolumeCreateSpec): Promise<VolumeInfo> {
    return this.op('createVolume', () => this.volumes.create(spec));
  }

  removeVolume(name: string): Promise<void> {
    return this.op('removeVolume', () =>
      this.volumes.remove(
        name,
        [...this.containers.values()].filter((c) => c.volumes.includes(name)).map((c) => c.id),
      ),
    );
  }

  // ───────────────────────────── events, lifecycle ─────────────────────────────

  events(): EventFeed<EngineEvent> {
    // A view without next/complete: subscribers cannot push into the engine's feed.
    return { subscribe: (observer) => this.eventSubject.subscribe(observer) };
  }

  close(): Promise<void> {
    this.eventSubject.complete();
    this.wakeLogReaders();
    return Promise.resolve();
  }

  // ───────────────────────────── internals ─────────────────────────────

  /** Counts the request, applies an injected failure, runs `body` (its throw becomes a rejection). */
  private op<T>(name: FakeOperation, body: () => T): Promise<T> {
    this.requests++;
    try {
      const injected = this.failures.get(name)?.shift();
      if (injected !== undefined) throw injected;
      return Promise.resolve(body());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private newId(seed: string): string {
    return createHash('sha256').update(`${++this.idCounter}:${seed}`).digest('hex');
  }

  private now(): string {
    return new Date(this.clock.now()).toISOString();
  }

  private engineTimestamp(): string {
    // Milliseconds from the clock plus a sequence in the sub-millisecond digits: strictly increasing.
    return formatEngineTimestamp(
      BigInt(this.clock.now()) * 1_000_000n + BigInt(++this.logSeq % 1_000_000),
    );
  }

  private container(ref: string): FakeContainer {
    const c = resolveBy(
      this.containers.values(),
      ref,
      (x) => x.id,
      (x) => x.name,
    );
    if (c === undefined) throw notFound('container', ref);
    return c;
  }

  private run(c: FakeContainer): void {
    c.state = 'running';
    c.exitCode = undefined;
    c.startedAt = this.now();
    c.health = c.spec.Healthcheck && c.spec.Healthcheck.Test[0] !== 'NONE' ? 'starting' : 'none';
    for (const net of c.networks.keys()) {
      this.emit({
        type: 'network',
        action: 'connect',
        id: this.networks.get(net).info.id,
        time: this.clock.now(),
      });
    }
    this.emitContainer(c, 'start');
    for (const line of c.process.output ?? [])
      c.logs.push({ stream: 'stdout', line, timestamp: this.engineTimestamp() });
    if (c.process.output?.length) this.wakeLogReaders();
    const exitsWith = c.process.exitsWith;
    if (exitsWith !== undefined) {
      // A one-shot command: it has run once start returned, as a real one would moments later.
      const startedAt = c.startedAt;
      setImmediate(() => {
        if (this.containers.get(c.id) === c && c.state === 'running' && c.startedAt === startedAt) {
          void this.selfExit(c, exitsWith);
        }
      });
    }
  }

  private exit(c: FakeContainer, exitCode: number): void {
    c.state = 'exited';
    c.exitCode = exitCode;
    c.finishedAt = this.now();
    if (c.health !== 'none') c.health = 'unhealthy';
    this.emitContainer(c, 'die', { exitCode: String(exitCode) });
    for (const net of c.networks.keys()) {
      const known = this.networks.find(net);
      if (known)
        this.emit({
          type: 'network',
          action: 'disconnect',
          id: known.info.id,
          time: this.clock.now(),
        });
    }
    this.wakeLogReaders();
  }

  private containerInfo(c: FakeContainer): ContainerInfo {
    return fakeContainerInfo(c, (name) => this.networks.find(name)?.info.id);
  }

  private emit(event: EngineEvent): void {
    this.eventSubject.next(event);
  }

  private emitContainer(
    c: FakeContainer,
    action: string,
    extra: { exitCode?: string; signal?: string; oldName?: string } = {},
  ): void {
    const event: EngineEvent = {
      type: 'container',
      action,
      id: c.id,
      name: c.name,
      labels: { ...c.spec.Labels },
      time: this.clock.now(),
    };
    if (extra.exitCode !== undefined) event.exitCode = Number(extra.exitCode);
    if (extra.signal !== undefined) event.signal = extra.signal;
    this.emit(event);
  }

  private wakeLogReaders(): void {
    const waiters = [...this.logWaiters];
    this.logWaiters.clear();
    for (const wake of waiters) wake();
  }

  private nextLogChange(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        signal?.removeEventListener('abort', done);
        this.logWaiters.delete(done);
        resolve();
      };
      this.logWaiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
