/**
 * The agent facade: the one implementation of AgentApi. It composes the reconciler (status snapshot and
 * intermediate targets), the store (targets, API keys), the engine (inspect, volume clean-up), and the
 * device/cloud ports. It holds no state of its own besides a memo of the last status view and the queue
 * that keeps user actions one at a time.
 */
import type {
  ActionOptions,
  AgentApi,
  CloudConnectivity,
  DeviceInfo,
  DeviceSummary,
  DeviceTag,
  HealthReport,
  HostAction,
  HostConfig,
  HostConfigPatch,
  JournalLogsBody,
  KeyScope,
  LocalTargetBody,
  LocalTargetView,
  ServiceAction,
  ServiceSelector,
  StatusView,
} from '../api/agent-api.js';
import type { Readable } from 'node:stream';
import type { AppTarget, TargetState } from '../domain/model.js';
import { localTargetToV3 } from '../domain/target/local-target.js';
import { validateTargetDevice } from '../domain/target/validate-target.js';
import type { EngineAdapter } from '../engine/port.js';
import type { Clock } from '../shared/clock.js';
import { BosunError, isBosunError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { ApiKeyRepository, TargetStateRepository } from '../store/ports.js';
import {
  withoutApp,
  withoutAppServices,
  withoutService,
  withServiceRunning,
} from './intermediate-targets.js';
import { ApiKeyResolver } from './api-keys.js';
import { reconcilerRunning, runHealthChecks, type NamedHealthCheck } from './health-checks.js';
import { journalctlArgs } from './journal-args.js';
import { summariseLocalApps, toJsonObjects } from './local-target-view.js';
import type {
  AgentSettings,
  CloudPort,
  DeviceFacts,
  HostActions,
  JournalReader,
  ReconcilerPort,
} from './ports.js';
import { StatusViewCache } from './status-view.js';

export interface AgentDeps {
  /** bosun's package version. */
  version: string;
  logger: Logger;
  clock: Clock;
  settings: () => AgentSettings;
  reconciler: ReconcilerPort;
  store: { targets: TargetStateRepository; apiKeys: ApiKeyRepository };
  engine: Pick<EngineAdapter, 'inspectContainer' | 'listContainers'>;
  host: HostActions;
  device: DeviceFacts;
  /** Absent on an unmanaged device. */
  cloud?: CloudPort | undefined;
  /** Absent where the host has no journal. */
  journal?: JournalReader | undefined;
  healthChecks?: readonly NamedHealthCheck[];
  /** A pushed target was refused (validation failed): main.ts logs it and says so as a system line. */
  onTargetRefused?: (error: BosunError) => void;
  /** Time between answering a reboot/shutdown request and acting, so the answer gets out (reference: 1 s). */
  hostActionDelayMs?: number;
  /**
   * Reboot/shutdown that wait for update locks (device/guarded-power.ts). Without it, a held lock
   * refuses the request at once and the host is asked after hostActionDelayMs.
   */
  power?: { request(action: HostAction, force: boolean): Promise<unknown> } | undefined;
}

const BLINK_MS = 15_000;
/** Safety net: a reconciler that never plans again must not keep status at `applying` for ever. */
const PENDING_APPLY_MAX_MS = 30_000;

export class Agent implements AgentApi {
  private readonly statusCache = new StatusViewCache();
  private readonly keys: ApiKeyResolver;
  private readonly logger: Logger;
  /**
   * After a local target is stored, status must not say `applied` before the reconciler has planned with
   * it: balena-cli polls /v2/state/status right after its POST and stops at the first `applied`.
   */
  private pendingApply: { untilRound: number; deadline: number } | undefined;
  /** User actions run one at a time (balena's withExclusive): a restart never interleaves with a purge. */
  private actionQueue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: AgentDeps) {
    this.logger = deps.logger.child({ component: 'agent' });
    this.keys = new ApiKeyResolver(deps.store.apiKeys, deps.clock, () => {
      const apps = Object.values(deps.reconciler.snapshot().target?.apps ?? {});
      return new Set(apps.map((a) => a.appId));
    });
  }

  // ── health and identity

  /** The reconciler's own check always runs; the rest come from main.ts (see health-checks.ts). */
  health(): Promise<HealthReport> {
    return runHealthChecks([
      reconcilerRunning(this.deps.reconciler),
      ...(this.deps.healthChecks ?? []),
    ]);
  }

  version(): string {
    return this.deps.version;
  }

  async deviceSummary(): Promise<DeviceSummary> {
    const { device } = this.deps;
    const [ipAddresses, macAddresses, osVersion] = await Promise.all([
      device.ipAddresses(),
      device.macAddresses(),
      device.osVersion(),
    ]);
    return {
      apiPort: this.deps.settings().apiPort,
      ipAddresses,
      macAddresses,
      osVersion,
      agentVersion: this.deps.version,
    };
  }

  deviceInfo(): Promise<DeviceInfo> {
    const { arch, deviceType } = this.deps.settings();
    return Promise.resolve({ arch, deviceType });
  }

  deviceName(): string {
    return this.deps.settings().deviceName;
  }

  isLocalMode(): boolean {
    return this.deps.settings().localMode;
  }

  // ── keys

  resolveApiKey(key: string): Promise<KeyScope | undefined> {
    return this.keys.resolve(key);
  }

  async regenerateApiKey(key: string): Promise<string> {
    const fresh = await this.keys.regenerate(key);
    if (fresh === undefined) throw new BosunError('UNAUTHORIZED', 'Unauthorized: unknown API key');
    this.logger.info('api-key.regenerated');
    // Containers holding the old scoped key get the new one when the next apply recreates them.
    this.deps.reconciler.triggerApply({ force: false });
    return fresh;
  }

  // ── status

  cloudConnectivity(): CloudConnectivity | undefined {
    return this.deps.cloud?.connectivity();
  }

  status(): StatusView {
    const snapshot = this.deps.reconciler.snapshot();
    const view = this.statusCache.view(snapshot);
    const pending = this.pendingApply;
    if (pending === undefined) return view;
    if (snapshot.status.rounds >= pending.untilRound || this.deps.clock.now() >= pending.deadline) {
      this.pendingApply = undefined;
      return view;
    }
    return { ...view, applying: true };
  }

  /** The round that will have planned with a target stored now: the next, or the one after a round in flight. */
  private expectApply(): void {
    const { status } = this.deps.reconciler.snapshot();
    const untilRound = status.rounds + (status.phase === 'applying' ? 2 : 1);
    this.pendingApply = { untilRound, deadline: this.deps.clock.now() + PENDING_APPLY_MAX_MS };
  }

  async containerDetails(
    containerId: string,
  ): Promise<{ env: Record<string, string>; engineImageId: string }> {
    const info = await this.deps.engine.inspectContainer(containerId);
    const env: Record<string, string> = {};
    for (const entry of info.env) {
      const eq = entry.indexOf('=');
      if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    return { env, engineImageId: info.imageId };
  }

  // ── target

  async localTarget(): Promise<LocalTargetView> {
    const settings = this.deps.settings();
    const stored = await this.deps.store.targets.load({ kind: 'local' });
    return {
      name: stored?.name ?? settings.deviceName,
      config: { ...(stored?.config ?? settings.configVars) },
      apps: stored === undefined ? {} : summariseLocalApps(stored.apps),
    };
  }

  async setLocalTarget(body: LocalTargetBody, options: ActionOptions): Promise<void> {
    if (!this.isLocalMode())
      throw new BosunError(
        'NOT_IN_LOCAL_MODE',
        'Target state can only set when device is in local mode',
      );
    let converted: ReturnType<typeof localTargetToV3>;
    let validated: ReturnType<typeof validateTargetDevice>;
    try {
      converted = localTargetToV3(body, this.deviceName());
      // Validate as a whole before storing anything: a rejected target changes nothing.
      validated = validateTargetDevice(converted.device);
    } catch (err) {
      if (isBosunError(err, 'VALIDATION_FAILED')) this.targetRefused(err);
      throw err;
    }
    for (const warning of validated.warnings)
      this.logger.warn('local-mode.target-warning', { warning });
    await this.deps.store.targets.save(
      { kind: 'local' },
      {
        name: validated.value.name,
        config: validated.value.config,
        apps: toJsonObjects(converted.device['apps']),
      },
    );
    this.logger.info('local-mode.target-set', { apps: Object.keys(validated.value.apps) });
    this.expectApply();
    this.deps.reconciler.triggerApply({ force: options.force || converted.force });
  }

  targetRefused(error: BosunError): void {
    this.deps.onTargetRefused?.(error);
  }

  triggerUpdate(options: { force: boolean; cancel: boolean }): Promise<{ triggered: boolean }> {
    const { cloud } = this.deps;
    if (cloud === undefined) {
      // Unmanaged: there is nothing to fetch; re-applying the stored target is the useful meaning.
      this.deps.reconciler.triggerApply({ force: options.force });
      return Promise.resolve({ triggered: true });
    }
    if (!options.force && !this.deps.settings().instantUpdates)
      return Promise.resolve({ triggered: false });
    cloud.fetchTargetNow(options);
    return Promise.resolve({ triggered: true });
  }

  // ── actions

  restartApp(appId: number, options: ActionOptions): Promise<void> {
    return this.exclusive(async () => {
      const app = this.targetApp(appId);
      this.checkLocks([appId], options);
      this.logger.info('agent.app-restart', { appId, force: options.force });
      await this.deps.reconciler.applyIntermediate(
        withoutAppServices(this.target(), app.uuid),
        options,
      );
      await this.deps.reconciler.applyIntermediate(this.target(), options);
    });
  }

  purgeApp(appId: number, options: ActionOptions): Promise<void> {
    return this.exclusive(async () => {
      const app = this.targetApp(appId);
      this.checkLocks([appId], options);
      this.logger.info('agent.app-purge', { appId, force: options.force });
      await this.deps.reconciler.applyIntermediate(withoutApp(this.target(), app.uuid), {
        ...options,
        removeVolumes: true,
      });
      await this.deps.reconciler.applyIntermediate(this.target(), options);
      this.logger.info('agent.app-purged', { appId });
    });
  }

  serviceAction(
    appId: number,
    action: ServiceAction,
    selector: ServiceSelector,
    options: ActionOptions,
  ): Promise<{ containerId: string | undefined }> {
    return this.exclusive(async () => {
      const app = this.targetApp(appId);
      const serviceName = this.resolveService(app, selector, action);
      const { reconciler } = this.deps;
      this.logger.info('agent.service-action', {
        appId,
        serviceName,
        action,
        force: options.force,
      });
      if (action !== 'start') this.checkLocks([appId], options);
      if (action === 'restart') {
        await reconciler.applyIntermediate(
          withoutService(this.target(), app.uuid, serviceName),
          options,
        );
        await reconciler.applyIntermediate(this.target(), options);
      } else if (action === 'stop') {
        reconciler.holdStopped(app.uuid, serviceName, true);
        await reconciler.applyIntermediate(
          withServiceRunning(this.target(), app.uuid, serviceName, false),
          options,
        );
      } else {
        reconciler.holdStopped(app.uuid, serviceName, false);
        await reconciler.applyIntermediate(
          withServiceRunning(this.target(), app.uuid, serviceName, true),
          options,
        );
      }
      const view = this.status().apps.find((a) => a.appId === appId);
      return {
        containerId: view?.services.find((s) => s.serviceName === serviceName)?.containerId,
      };
    });
  }

  async hostAction(action: HostAction, options: ActionOptions): Promise<void> {
    if (this.deps.power !== undefined) {
      await this.deps.power.request(action, options.force);
      return;
    }
    const apps = Object.values(this.deps.reconciler.snapshot().target?.apps ?? {}).map(
      (a) => a.appId,
    );
    this.checkLocks(apps, options);
    this.logger.info('agent.host-action-scheduled', { action, force: options.force });
    const { clock, host } = this.deps;
    void clock
      .sleep(this.deps.hostActionDelayMs ?? 1000)
      .then(() => (action === 'reboot' ? host.reboot() : host.shutdown()))
      .catch((err: unknown) => this.logger.error('agent.host-action-failed', { action, err }));
  }

  blink(): Promise<void> {
    void this.deps.host
      .blink(BLINK_MS)
      .catch((err: unknown) => this.logger.warn('agent.blink-failed', { err }));
    return Promise.resolve();
  }

  /**
   * Removes volumes that bosun manages (supervised label), that no container mounts and that no in-scope
   * target app uses: a plan the reconciler runs (planner/volume-cleanup.ts), never engine calls from here.
   */
  cleanupVolumes(scope: KeyScope): Promise<{ removed: string[] }> {
    return this.deps.reconciler.cleanupVolumes(scope.kind === 'app' ? scope.appId : undefined);
  }

  // ── device

  async tags(): Promise<DeviceTag[]> {
    return this.cloud('device tags').tags();
  }

  async setTags(tags: Record<string, string>): Promise<void> {
    await this.cloud('device tags').setTags(tags);
  }

  async vpnStatus(): Promise<{ enabled: boolean; connected: boolean }> {
    return {
      enabled: this.deps.settings().vpnEnabled,
      connected: await this.deps.device.vpnConnected(),
    };
  }

  async hostConfig(): Promise<HostConfig> {
    const [hostname, proxy] = await Promise.all([
      this.deps.device.hostname(),
      this.deps.device.proxy(),
    ]);
    return { network: proxy === undefined ? { hostname } : { hostname, proxy } };
  }

  async patchHostConfig(patch: HostConfigPatch, options: ActionOptions): Promise<void> {
    const network = patch.network;
    if (network === undefined) {
      this.logger.warn('agent.host-config-patch-without-network');
      return;
    }
    // Proxy changes may restart the engine: like balena, refuse while any app holds its update lock.
    const apps = Object.values(this.deps.reconciler.snapshot().target?.apps ?? {}).map(
      (a) => a.appId,
    );
    this.checkLocks(apps, options);
    if (network.hostname !== undefined) await this.deps.device.setHostname(network.hostname);
    if (network.proxy !== undefined) await this.deps.device.setProxy(network.proxy);
  }

  journalLogs(options: JournalLogsBody, signal: AbortSignal): Readable {
    if (this.deps.journal === undefined)
      throw new BosunError('NOT_READY', 'This host has no journal to read');
    return this.deps.journal.stream(journalctlArgs(options), signal);
  }

  // ── helpers

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.actionQueue.then(fn, fn);
    this.actionQueue = run.catch(() => undefined);
    return run;
  }

  private target(): TargetState {
    const target = this.deps.reconciler.snapshot().target;
    if (target === undefined)
      throw new BosunError('NOT_READY', 'No target state yet: the agent is still starting');
    return target;
  }

  private targetApp(appId: number): AppTarget {
    const app = Object.values(this.target().apps).find((a) => a.appId === appId);
    if (app === undefined) throw new BosunError('NOT_FOUND', `App not found: ${appId}`);
    return app;
  }

  private resolveService(app: AppTarget, selector: ServiceSelector, action: ServiceAction): string {
    const services = Object.values(app.release?.services ?? {});
    const current =
      this.deps.reconciler.snapshot().current?.containers.filter((c) => c.appUuid === app.uuid) ??
      [];
    const name =
      selector.serviceName ??
      services.find((s) => s.imageId === selector.imageId)?.serviceName ??
      current.find((c) => c.imageId === selector.imageId)?.serviceName;
    const what = selector.serviceName ?? `imageId ${selector.imageId}`;
    if (
      action !== 'start' &&
      (name === undefined || !current.some((c) => c.serviceName === name))
    ) {
      throw new BosunError(
        'NOT_FOUND',
        `Service not found, a container must exist for this endpoint to work: ${what}`,
      );
    }
    if (name === undefined || !services.some((s) => s.serviceName === name)) {
      throw new BosunError('NOT_FOUND', `Service does not exist in target release: ${what}`);
    }
    return name;
  }

  /** Fast refusal from the last observation; the reconciler's takeLock step remains the authority. */
  private checkLocks(appIds: readonly number[], options: ActionOptions): void {
    if (options.force) return;
    const locks = this.deps.reconciler.snapshot().current?.locks ?? [];
    const held = locks.find((l) => l.heldBy === 'user' && appIds.includes(l.appId));
    if (held !== undefined) {
      throw new BosunError(
        'UPDATES_LOCKED',
        `Updates are locked: service ${held.serviceName} of app ${held.appId} holds its update lock`,
        {
          details: { appId: held.appId, serviceName: held.serviceName },
        },
      );
    }
  }

  private cloud(what: string): CloudPort {
    if (this.deps.cloud === undefined)
      throw new BosunError('NOT_READY', `${what} need a cloud-managed device`);
    return this.deps.cloud;
  }
}
