/**
 * The cloud binding, assembled: provisioning first, then target polling and state reports, tags, and
 * the health checks. main.ts calls `wireCloud(deps)` once for a managed device and hands `port` to the
 * agent facade, `healthChecks` to the health endpoint, and `stop()` to shutdown.
 */
import type { Agent } from 'node:http';
import type { CloudPort } from '../agent/ports.js';
import type { Clock } from '../shared/clock.js';
import { BosunError, errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { ApplyProgressWatch, cloudHealthChecks, type NamedHealthCheck } from './cloud-health.js';
import { CloudClient } from './cloud-client.js';
import type {
  CloudConfigFile,
  CloudDeviceFacts,
  CloudReconciler,
  CloudSystemLog,
  CloudTargetStore,
  HardwareMetrics,
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
}

export interface WireCloudDeps {
  endpoint: string;
  /** config.json balenaRootCA. */
  rootCaBase64: string | undefined;
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
}

export interface WiredCloud {
  port: CloudPort;
  healthChecks: NamedHealthCheck[];
  /** The cloud client's keep-alive agent for `url` (same protocol), shared with the log stream. */
  agentFor(url: URL): Agent | undefined;
  poller(): TargetPoller | undefined;
  reporter(): StateReporter | undefined;
  start(): void;
  stop(): Promise<void>;
}

const ADDRESS_REFRESH_MS = 30_000;

export function wireCloud(deps: WireCloudDeps): WiredCloud {
  const log = deps.logger.child({ component: 'cloud' });
  const client = new CloudClient({
    endpoint: deps.endpoint,
    rootCaBase64: deps.rootCaBase64,
    reuseConnections: deps.reuseConnections ?? true,
  });
  const abort = new AbortController();
  const uuid = (): string => deps.config.value.uuid;
  const key = (): string => deps.config.value.deviceApiKey;
  const random = deps.random ?? Math.random;
  const apply = new ApplyProgressWatch(deps.clock);
  let poller: TargetPoller | undefined;
  let reporter: StateReporter | undefined;
  let running: Promise<unknown> | undefined;

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
    const [stored, where, apiSecret, osVersion, osVariant] = await Promise.all([
      deps.store.load(),
      presence(),
      deps.apiSecret(),
      deps.facts.osVersion(),
      deps.facts.osVariant(),
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
      },
      deps.localMode() ? {} : buildAppsReport(deps.reconciler.status(), stored, intake.rejections),
    );
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
      logger: deps.logger,
    });
    await Promise.all([poller.run(signal), reporter.run(signal)]);
  };

  const namedHealthChecks = cloudHealthChecks({
    clock: deps.clock,
    pollIntervalMs: () => deps.settings().pollIntervalMs,
    poller: () => poller,
    apply,
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
  };

  return {
    port,
    healthChecks: namedHealthChecks,
    agentFor: (url) => client.agentFor(url),
    poller: () => poller,
    reporter: () => reporter,
    start: () => {
      if (running !== undefined) return;
      const unsubscribe = deps.reconciler.onStatus((status) => {
        apply.observe(status);
        reporter?.wake();
      });
      abort.signal.addEventListener('abort', unsubscribe, { once: true });
      running = runManaged(abort.signal).catch((err: unknown) => {
        if (abort.signal.aborted) return;
        log.error('cloud.stopped', {
          message: errorMessage(err),
          code: err instanceof BosunError ? err.code : undefined,
        });
      });
    },
    stop: async () => {
      abort.abort(new BosunError('CANCELLED', 'the agent is stopping'));
      await running;
      client.close();
    },
  };
}
