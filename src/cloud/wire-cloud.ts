/**
 * The cloud binding, assembled: provisioning first, then target polling and state reports, tags, and
 * the health checks. main.ts calls `wireCloud(deps)` once for a managed device and hands `port` to the
 * agent facade, `healthChecks` to the health endpoint, and `stop()` to shutdown.
 */
import type { Agent } from 'node:http';
import type { LookupFunction } from 'node:net';
import type { CloudConnectivity, CloudPort } from '../agent/ports.js';
import type { Clock } from '../shared/clock.js';
import { BosunError, errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { ApplyProgressWatch, cloudHealthChecks, type NamedHealthCheck } from './cloud-health.js';
import { CloudClient } from './cloud-client.js';
import { ConnectivityCheck } from './connectivity-check.js';
import { reportInitialConfig } from './initial-config-report.js';
import type {
  CloudConfigFile,
  CloudDeviceFacts,
  CloudReconciler,
  CloudSystemLog,
  CloudTargetStore,
  CloudTraffic,
  HardwareMetrics,
  InitialConfigSource,
} from './ports.js';
import { isProvisioned, provisionDevice } from './provision.js';
import { buildAppsReport, buildDeviceReport, type DeviceReport } from './report-builder.js';
import { StateReporter } from './state-reporter.js';
import { TagReporter } from './tag-reporter.js';
import { TargetIntake } from './target-intake.js';
import { TargetPoller } from './target-poller.js';

export interface CloudSettings {
  pollIntervalMs: number;
  instantUpdates: boolean;
  hardwareMetrics: boolean;
  /** SUPERVISOR_CONNECTIVITY_CHECK. */
  connectivityCheck: boolean;
}

export interface WireCloudDeps {
  endpoint: string;
  /** config.json balenaRootCA. */
  rootCaBase64: string | undefined;
  /** How the cloud's host name is resolved (main.ts: the system's, then mDNS for `*.local`). */
  lookup?: LookupFunction;
  config: CloudConfigFile;
  store: CloudTargetStore;
  reconciler: CloudReconciler;
  facts: CloudDeviceFacts;
  metrics: () => Promise<HardwareMetrics | undefined>;
  /** Resolved config vars of the current target (they change at run time). */
  settings: () => CloudSettings;
  /** The port the local API listens on (reported as api_port). */
  apiPort: () => number;
  /** The device-wide local API key, reported as api_secret (the cloud calls /v1/update with it). */
  apiSecret: () => Promise<string>;
  version: string;
  /** In local mode the report leaves `apps` out (a developer's apps are not the fleet's release). */
  localMode: () => boolean;
  systemLog: CloudSystemLog;
  clock: Clock;
  logger: Logger;
  random?: () => number;
  /** Poll jitter window (default 60 s). */
  jitterMs?: number;
  /** config.json bootstrapRetryDelay. */
  provisioningRetryMs?: number;
  /** Off only to measure what reuse saves. */
  reuseConnections?: boolean;
  /** Counts polls, reports and bytes on the wire (the agent's metrics). */
  traffic?: CloudTraffic;
  /** The initial config report's inputs (docs/protocol.md#initial-config-report); left out, nothing is reported. */
  initialConfig?: InitialConfigSource;
  /** Connectivity check interval (default 10 s, docs/protocol.md#connectivity). */
  connectivityCheckMs?: number;
}

export interface WiredCloud {
  port: CloudPort;
  healthChecks: NamedHealthCheck[];
  /** The cloud client's keep-alive agent for `url` (same protocol), shared with the log stream. */
  agentFor(url: URL): Agent | undefined;
  poller(): TargetPoller | undefined;
  reporter(): StateReporter | undefined;
  connectivity(): CloudConnectivity;
  start(): void;
  stop(): Promise<void>;
}

const ADDRESS_REFRESH_MS = 30_000;

export function wireCloud(deps: WireCloudDeps): WiredCloud {
  const log = deps.logger.child({ component: 'cloud' });
  const traffic = deps.traffic;
  const client = new CloudClient({
    endpoint: deps.endpoint,
    rootCaBase64: deps.rootCaBase64,
    reuseConnections: deps.reuseConnections ?? true,
    ...(deps.lookup === undefined ? {} : { lookup: deps.lookup }),
    ...(traffic === undefined
      ? {}
      : { onWireBytes: (direction, bytes) => traffic.cloudBytes(direction, bytes) }),
  });
  const connectivity = new ConnectivityCheck({
    endpoint: deps.endpoint,
    enabled: () => deps.settings().connectivityCheck,
    systemLog: deps.systemLog,
    clock: deps.clock,
    logger: deps.logger,
    intervalMs: deps.connectivityCheckMs,
    // Before provisioning no poll can prove anything: probe.
    pollsSucceed: () =>
      poller !== undefined && poller.failures === 0 && poller.lastSuccessAt !== undefined,
    onReconnect: () => poller?.pollNow({ force: false }),
  });
  const abort = new AbortController();
  const uuid = (): string => deps.config.value.uuid;
  const key = (): string => deps.config.value.deviceApiKey;
  const random = deps.random ?? Math.random;
  const apply = new ApplyProgressWatch(deps.clock);
  let poller: TargetPoller | undefined;
  let reporter: StateReporter | undefined;
  let running: Promise<unknown> | undefined;
  let provisioned = false;
  let initialConfigDone = deps.initialConfig === undefined;
  let initialConfigRunning = false;

  const intake = new TargetIntake({
    uuid,
    store: deps.store,
    reconciler: deps.reconciler,
    systemLog: deps.systemLog,
    logger: deps.logger,
    onAccepted: () => reporter?.wake(),
  });
  const tags = new TagReporter(
    {
      client,
      uuid,
      key,
      deviceId: () => deps.config.value.deviceId,
      clock: deps.clock,
      pollIntervalMs: () => deps.settings().pollIntervalMs,
      logger: deps.logger,
    },
    abort.signal,
  );

  let addresses: { at: number; ip: string; mac: string } | undefined;
  const presence = async (): Promise<{ ip: string; mac: string }> => {
    if (addresses === undefined || deps.clock.now() - addresses.at >= ADDRESS_REFRESH_MS) {
      const [ips, macs] = await Promise.all([deps.facts.ipAddresses(), deps.facts.macAddresses()]);
      addresses = { at: deps.clock.now(), ip: ips.join(' '), mac: macs.join(' ') };
    }
    return addresses;
  };
  const buildReport = async (): Promise<DeviceReport> => {
    const [stored, where, apiSecret, osVersion, osVariant, undervolted] = await Promise.all([
      deps.store.load(),
      presence(),
      deps.apiSecret(),
      deps.facts.osVersion(),
      deps.facts.osVariant(),
      deps.facts.undervolted?.(),
    ]);
    return buildDeviceReport(
      {
        api_port: deps.apiPort(),
        api_secret: apiSecret,
        os_version: osVersion,
        os_variant: osVariant,
        supervisor_version: deps.version,
        ip_address: where.ip,
        mac_address: where.mac,
        name: stored?.name,
        is_undervolted: undervolted,
        localMode: deps.localMode(),
      },
      deps.localMode() ? {} : buildAppsReport(deps.reconciler.status(), stored, intake.rejections),
    );
  };

  /** After a poll the cloud answered: the initial config report, once, retried on the next poll. */
  const afterPoll = (): void => {
    const source = deps.initialConfig;
    if (initialConfigDone || initialConfigRunning || source === undefined) return;
    initialConfigRunning = true;
    void (async () => {
      const stored = await deps.store.load();
      const outcome = await reportInitialConfig(
        {
          client,
          endpoint: deps.endpoint,
          key,
          deviceId: () => deps.config.value.deviceId,
          reportedTo: source.reportedTo,
          markReported: source.markReported,
          current: source.current,
          defaults: source.defaults,
          initialDeviceName: source.initialDeviceName,
          systemLog: deps.systemLog,
          logger: deps.logger,
        },
        stored?.config ?? {},
      );
      initialConfigDone = true;
      // The vars just created are in the cloud's target now: fetch it rather than wait an interval.
      if (outcome === 'reported') poller?.pollNow({ force: false });
    })()
      .catch((err: unknown) =>
        log.warn('cloud.initial-config-failed', {
          message: errorMessage(err),
          code: err instanceof BosunError ? err.code : undefined,
        }),
      )
      .finally(() => {
        initialConfigRunning = false;
      });
  };

  const runManaged = async (signal: AbortSignal): Promise<void> => {
    if (!isProvisioned(deps.config.value))
      log.info('cloud.provisioning', { endpoint: client.endpoint });
    await provisionDevice({
      client,
      config: deps.config,
      facts: async () => ({
        deviceType: deps.facts.deviceType(),
        supervisorVersion: deps.version,
        osVersion: await deps.facts.osVersion(),
        osVariant: await deps.facts.osVariant(),
        macAddress: (await deps.facts.macAddresses()).join(' ') || undefined,
      }),
      clock: deps.clock,
      logger: deps.logger,
      retryBaseMs: deps.provisioningRetryMs,
      signal,
    });
    provisioned = true;
    poller = new TargetPoller({
      client,
      uuid,
      key,
      clock: deps.clock,
      random,
      settings: () => deps.settings(),
      jitterMs: deps.jitterMs,
      hasStoredTarget: async () => (await deps.store.load()) !== undefined,
      accept: (document, options) => intake.accept(document, options),
      reapply: (options) => deps.reconciler.triggerApply(options),
      onPoll: (outcome) => {
        traffic?.cloudPoll(outcome);
        if (outcome !== 'error') afterPoll();
      },
      logger: deps.logger,
    });
    reporter = new StateReporter({
      client,
      uuid,
      key,
      clock: deps.clock,
      build: buildReport,
      metrics: deps.metrics,
      settings: () => deps.settings(),
      ...(traffic === undefined ? {} : { onReport: (outcome) => traffic.cloudReport(outcome) }),
      logger: deps.logger,
    });
    // Both loops end before stop() goes on: a report in flight is answered (and counted) first.
    const ended = await Promise.allSettled([poller.run(signal), reporter.run(signal)]);
    for (const end of ended) if (end.status === 'rejected') throw end.reason;
  };

  const namedHealthChecks = cloudHealthChecks({
    clock: deps.clock,
    pollIntervalMs: () => deps.settings().pollIntervalMs,
    poller: () => poller,
    connectivity: () => connectivity.state,
    apply,
  });
  const connectivityView = (): CloudConnectivity => ({
    endpoint: client.endpoint,
    provisioned,
    reachable:
      poller === undefined
        ? null
        : poller.failures > 0
          ? false
          : poller.lastSuccessAt === undefined
            ? null
            : true,
    lastSuccessfulPollAt: poller?.lastSuccessAt ?? null,
    offlineSince: poller?.failingSince ?? null,
    lastError: poller?.lastError?.message ?? null,
    connectivityCheck: connectivity.state,
  });
  const port: CloudPort = {
    fetchTargetNow: (options) => {
      if (poller === undefined) {
        log.info('cloud.update-ignored', { reason: 'not provisioned yet' });
        return;
      }
      poller.pollNow({ force: options.force });
    },
    tags: () => tags.list(),
    setTags: (values) => {
      tags.set(values);
      return Promise.resolve();
    },
    connectivity: connectivityView,
  };

  return {
    port,
    healthChecks: namedHealthChecks,
    agentFor: (url) => client.agentFor(url),
    poller: () => poller,
    reporter: () => reporter,
    connectivity: connectivityView,
    start: () => {
      if (running !== undefined) return;
      const unsubscribe = deps.reconciler.onStatus((status) => {
        apply.observe(status);
        reporter?.wake();
      });
      abort.signal.addEventListener('abort', unsubscribe, { once: true });
      const checking = connectivity.run(abort.signal).catch((err: unknown) => {
        if (!abort.signal.aborted)
          log.error('connectivity.stopped', { message: errorMessage(err) });
      });
      running = runManaged(abort.signal).catch((err: unknown) => {
        if (abort.signal.aborted) return;
        log.error('cloud.stopped', {
          message: errorMessage(err),
          code: err instanceof BosunError ? err.code : undefined,
        });
      });
      running = Promise.all([running, checking]);
    },
    stop: async () => {
      abort.abort(new BosunError('CANCELLED', 'the agent is stopping'));
      await running;
      client.close();
    },
  };
}
