/**
 * How each Step kind is carried out against the ports. No decisions: what to do and in which order is
 * the planner's; this file only knows how. Idempotence where the engine allows it (creating something
 * that already exists, removing something already gone) so that re-running a step after a crash is safe.
 */
import { lockKey, type LockKey } from '../domain/keys.js';
import { CONFIG_HASH_LABEL } from '../domain/config-hash.js';
import type { ContainerCreateSpec, EndpointSpec } from '../domain/container-spec.js';
import type { ServiceTarget } from '../domain/model.js';
import type { EngineAdapter, ImageInfo } from '../engine/port.js';
import { assertNever, type Step } from '../planner/index.js';
import { BosunError, isBosunError, toBosunError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { DownloadTracker } from './downloads.js';
import type { CommitStore, LockPort, PulledImageStore, RegistryAuthProvider } from './ports.js';

export interface StepRunnerDeps {
  engine: EngineAdapter;
  locks: LockPort;
  commits: CommitStore;
  images: PulledImageStore;
  auth: RegistryAuthProvider;
  downloads: DownloadTracker;
  logger: Logger;
  /** Told the downloaded bytes of each successful pull (metrics). */
  onImagePulled?: (bytes: number) => void;
}

/** Facts of this apply the runner needs, decided by the reconciler. */
export interface StepRunContext {
  /** appUuid → numeric appId (lock paths are keyed by appId). */
  appIds: ReadonlyMap<string, number>;
  /** appUuid → the commit being applied (recorded with pulled images). */
  targetCommits: ReadonlyMap<string, string>;
  /** Override user locks everywhere (request `force` or SUPERVISOR_OVERRIDE_LOCK). */
  forceLocks: boolean;
  /** User locks the reconciler judged stale. */
  staleLocks: ReadonlySet<LockKey>;
}

export class StepRunner {
  constructor(private readonly deps: StepRunnerDeps) {}

  async run(step: Step, signal: AbortSignal, ctx: StepRunContext): Promise<void> {
    const { engine } = this.deps;
    switch (step.kind) {
      case 'pullImage': {
        const pulled = await this.pull(step.image, signal);
        const appUuid = step.appUuid ?? '';
        const commit = ctx.targetCommits.get(appUuid) ?? '';
        return this.deps.images.record({
          name: step.image,
          engineId: pulled.id,
          appUuid,
          serviceName: step.serviceName,
          commit,
        });
      }
      case 'removeImage':
        await tolerate(engine.removeImage(step.image), 'NOT_FOUND');
        return this.deps.images.forget(step.image, step.engineImageId);
      case 'createNetwork':
        // Already there (e.g. created just before a crash): the next observation compares its hash.
        return tolerate(
          engine.createNetwork(step.network.createSpec).then(() => undefined),
          'CONFLICT',
        );
      case 'removeNetwork':
        return tolerate(engine.removeNetwork(step.engineName), 'NOT_FOUND');
      case 'createVolume':
        return tolerate(
          engine.createVolume(step.volume.createSpec).then(() => undefined),
          'CONFLICT',
        );
      case 'removeVolume':
        return tolerate(engine.removeVolume(step.engineName), 'NOT_FOUND');
      case 'takeLock': {
        const overrideServices = step.services.filter((s) =>
          ctx.staleLocks.has(lockKey(step.appId, s)),
        );
        return this.deps.locks.take(step.appId, step.services, {
          force: step.force || ctx.forceLocks,
          overrideServices,
        });
      }
      case 'releaseLock':
        return this.deps.locks.release(step.appId);
      case 'createContainer':
        return this.create(step.service, step.appUuid, ctx);
      case 'startContainer':
        return engine.startContainer(step.containerId);
      case 'stopContainer':
        return engine.stopContainer(step.containerId, { timeoutSec: step.timeoutSec, signal });
      case 'removeContainer':
        // removeVolumes removes the container's anonymous volumes only; named volumes are never touched.
        return tolerate(
          engine.removeContainer(step.containerId, { removeVolumes: true }),
          'NOT_FOUND',
        );
      case 'renameContainer':
        return engine.renameContainer(step.containerId, step.newName);
      case 'retireContainer': {
        // Restart policy first: an outgoing container that dies must not be brought back by the engine.
        await engine.updateRestartPolicy(step.containerId, 'no');
        await engine.renameContainer(step.containerId, step.newName);
        const appId = step.appUuid === undefined ? undefined : ctx.appIds.get(step.appUuid);
        if (appId !== undefined) await this.deps.locks.clearHandover(appId, step.serviceName);
        return;
      }
      case 'createSupervisorNetwork':
        // Created concurrently (another agent on the engine, a crash right after the create): fine.
        return tolerate(
          engine
            .createNetwork({
              Name: step.network.name,
              Driver: 'bridge',
              Options: { 'com.docker.network.bridge.name': step.network.name },
              IPAM: {
                Driver: 'default',
                Config: [{ Subnet: step.network.subnet, Gateway: step.network.gateway }],
              },
              Labels: {},
            })
            .then(() => undefined),
          'CONFLICT',
        );
      case 'discardContainer':
        return tolerate(engine.removeContainer(step.containerId, { force: true }), 'NOT_FOUND');
      case 'recordCommit':
        if (step.appUuid === undefined)
          throw new BosunError('INTERNAL', `recordCommit step ${step.id} has no app`);
        return this.deps.commits.setCommit(step.appUuid, step.commit);
      default:
        return assertNever(step);
    }
  }

  private async pull(image: string, signal: AbortSignal): Promise<ImageInfo> {
    const { engine, downloads, auth } = this.deps;
    downloads.start(image);
    let bytes = 0;
    try {
      const credentials = auth.authFor(image);
      const pulled = await engine.pullImage(image, {
        ...(credentials === undefined ? {} : { auth: credentials }),
        signal,
        onProgress: (p) => {
          bytes = p.downloadedBytes;
          downloads.progress(image, p.percent);
        },
      });
      this.deps.onImagePulled?.(bytes);
      return pulled;
    } finally {
      downloads.finish(image);
    }
  }

  private async create(
    service: ServiceTarget,
    appUuid: string | undefined,
    ctx: StepRunContext,
  ): Promise<void> {
    const { engine, locks } = this.deps;
    const spec = service.createSpec;
    const appId =
      (appUuid === undefined ? undefined : ctx.appIds.get(appUuid)) ??
      Number(spec.Labels['io.balena.app-id']);
    // The lock directory must be ready before the container starts (the next step), not before the
    // engine records it: prepared alongside the create, so the create does not queue behind two
    // file-system round trips. If the directory cannot be made, the container is removed again and the
    // step fails as before (no container is left to start without its lock directory).
    const [prepared, created] = await Promise.allSettled([
      Number.isInteger(appId) ? locks.prepare(appId, service.serviceName) : undefined,
      this.createWithNetworks(service, appUuid),
    ]);
    if (created.status === 'rejected') throw toBosunError(created.reason, 'APPLY_FAILED');
    if (prepared.status === 'rejected') {
      await tolerate(engine.removeContainer(created.value, { force: true }), 'NOT_FOUND');
      throw toBosunError(prepared.reason, 'APPLY_FAILED');
    }
  }

  private async createWithNetworks(
    service: ServiceTarget,
    appUuid: string | undefined,
  ): Promise<string> {
    const { engine } = this.deps;
    const spec = service.createSpec;
    const networkMode = await this.resolveNetworkMode(spec.HostConfig.NetworkMode, appUuid);
    const endpoints = spec.NetworkingConfig?.EndpointsConfig ?? {};
    const mainName = endpoints[networkMode] === undefined ? undefined : networkMode;
    const extra = Object.entries(endpoints).filter(([name]) => name !== mainName);
    const mainEndpoint = mainName === undefined ? undefined : endpoints[mainName];
    const body: ContainerCreateSpec = {
      ...spec,
      Labels: { ...spec.Labels, [CONFIG_HASH_LABEL]: service.configHash },
      HostConfig: { ...spec.HostConfig, NetworkMode: networkMode },
      // Older engines accept one endpoint at create; the others are connected right after.
      ...(mainName === undefined || mainEndpoint === undefined
        ? {}
        : { NetworkingConfig: { EndpointsConfig: { [mainName]: mainEndpoint } } }),
    };
    const { id } = await engine.createContainer(body);
    for (const [network, endpoint] of extra)
      await engine.connectNetwork(network, id, toConnectOptions(endpoint));
    return id;
  }

  /** `service:<name>` becomes `container:<id>` of that service's current container, found by labels. */
  private async resolveNetworkMode(mode: string, appUuid: string | undefined): Promise<string> {
    if (!mode.startsWith('service:')) return mode;
    const name = mode.slice('service:'.length);
    const labels = [
      `io.balena.service-name=${name}`,
      ...(appUuid === undefined ? [] : [`io.balena.app-uuid=${appUuid}`]),
    ];
    const candidates = (await this.deps.engine.listContainers({ labels })).filter(
      (c) => !c.name.startsWith('old_'),
    );
    const chosen = candidates.find((c) => c.state === 'running') ?? candidates[0];
    if (chosen === undefined)
      throw new BosunError(
        'NOT_FOUND',
        `network_mode service:${name}: no container for service ${name}`,
      );
    return `container:${chosen.id}`;
  }
}

function toConnectOptions(endpoint: EndpointSpec): {
  aliases?: string[];
  ipv4Address?: string;
  ipv6Address?: string;
} {
  return {
    ...(endpoint.Aliases === undefined ? {} : { aliases: endpoint.Aliases }),
    ...(endpoint.IPAMConfig?.IPv4Address === undefined
      ? {}
      : { ipv4Address: endpoint.IPAMConfig.IPv4Address }),
    ...(endpoint.IPAMConfig?.IPv6Address === undefined
      ? {}
      : { ipv6Address: endpoint.IPAMConfig.IPv6Address }),
  };
}

async function tolerate(operation: Promise<void>, code: 'NOT_FOUND' | 'CONFLICT'): Promise<void> {
  try {
    await operation;
  } catch (err) {
    if (!isBosunError(err, code)) throw err;
  }
}
