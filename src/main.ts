/**
 * Composition root: the only file that builds concrete adapters and wires them. Everything else
 * receives what it uses through its constructor.
 *
 * Start-up order is chosen so the API answers as early as possible (GET /ping is how balena-cli and
 * the engine healthcheck find us): config → store → API listening → reconciler. The engine may still
 * be starting: the reconciler retries with backoff and says so in its log.
 */
import { uptime } from 'node:os';
import type { EarlyApi } from './api/early-ping.js';
import { settleCompileCache, type CompileCache } from './config/compile-cache.js';
import { wireApi } from './api/wire-api.js';
import { planPreviewEndpoint } from './agent/plan-preview.js';
import { deviceHostnames } from './api/request-guard.js';
import { wireAgentFacade } from './agent/wire-agent-facade.js';
import { wireLocalMode } from './agent/wire-local-mode.js';
import { stopOnSignals } from './agent/shutdown.js';
import { wireTargetLoader } from './agent/wire-target-loader.js';
import { describeCloudConnectivity } from './agent/cloud-connectivity-words.js';
import { loadConfiguration } from './config/load-configuration.js';
import { resolveLogLevel } from './config/agent-settings.js';
import {
  DEFAULT_SUPERVISOR_CONFIG,
  planSettingsOf,
  resolveConfigVars,
  type SupervisorConfig,
} from './config/config-vars.js';
import { deviceConfigVarValues } from './config/config-json-mirror.js';
import { readHardwareMetrics } from './device/hardware-metrics.js';
import { undervoltageReader } from './device/undervoltage.js';
import { loadDeviceIdentity } from './device/load-identity.js';
import { appsWithServices } from './device/host-actions.js';
import { wireDevice } from './device/wire-device.js';
import { Journalctl } from './device/journalctl.js';
import { HostUpdateLocks } from './device/locks.js';
import { DEFAULT_SUPERVISOR_NETWORK } from './domain/context.js';
import { DockerEngine } from './engine/docker-engine.js';
import { logStreamCredentials } from './logs/cloud-log-credentials.js';
import { wireLogs } from './logs/wire-logs.js';
import { wireObservability } from './observability/wiring.js';
import { DEFAULT_RECONCILER_OPTIONS } from './reconciler/reconciler-options.js';
import { StepSystemLog } from './reconciler/step-system-log.js';
import { TargetRefusals } from './reconciler/target-refusals.js';
import { createReconciler } from './reconciler/wiring.js';
import { wireRollback } from './reconciler/rollback/wire-rollback.js';
import { systemClock } from './shared/clock.js';
import { readVersion } from './shared/version.js';
import { errorMessage, isBosunError } from './shared/errors.js';
import { createLogger, type Logger } from './shared/logger.js';
import { openStoreWithRecovery, scheduleBackups } from './store/open-with-recovery.js';

const SHUTDOWN_BUDGET_MS = 1_800;

async function main(early: EarlyApi | undefined, compileCache: CompileCache): Promise<void> {
  const env = process.env;
  // A person at a terminal gets readable lines; a pipe, journald or a log collector gets JSON.
  const consoleFormat = process.stdout.isTTY
    ? ({ format: 'people', colour: process.stdout.hasColors() } as const)
    : ({ format: 'json' } as const);
  let logger: Logger = createLogger({ level: 'info', ...consoleFormat });
  try {
    logger = createLogger({ level: resolveLogLevel(env), ...consoleFormat });
  } catch (err) {
    logger.error('agent.start-failed', { err, code: isBosunError(err) ? err.code : undefined });
    process.exitCode = 1;
    return;
  }
  const log = logger.child({ component: 'main' });
  const clock = systemClock;
  const version = await readVersion();
  log.info('agent.starting', { version, pid: process.pid });

  const { settings, configJson } = await loadConfiguration({ env, cwd: process.cwd(), logger });
  // config.json as found, before a target can rewrite the config vars that live there.
  const configJsonAtStart = { ...configJson.value };
  // A broken database is recovered from a known-good copy (or fresh), loudly; copies every 6 h.
  const store = await openStoreWithRecovery({ path: settings.dbPath, logger });
  scheduleBackups(settings.dbPath, logger, 6 * 3_600_000);
  await store.apiKeys.globalKey(); // created at first start; reported to the cloud as api_secret later

  const identity = await loadDeviceIdentity({
    env,
    configPath: settings.configPath,
    configDeviceType: configJson.value.deviceType,
    configHostname: configJson.value.hostname,
    developmentMode: configJson.value.developmentMode,
    logger,
  });
  // Metrics and the dashboard read the reconciler's snapshot, late-bound (it is built below).
  const observability = wireObservability({
    version,
    localMode: settings.localMode,
    clock,
    snapshot: () => reconciler.snapshot(),
    device: async () => ({
      name: targetLoader.deviceName,
      uuid: configJson.value.uuid ?? '',
      deviceType: identity.deviceType,
      os: (await identity.osVersion()) ?? 'unknown',
      version,
      mode: modeSwitch.localMode ? 'local' : 'cloud',
      connectivity: modeSwitch.localMode
        ? 'local mode: managed from this network with balena-cli'
        : cloud !== undefined
          ? describeCloudConnectivity(cloud.connectivity())
          : `cloud: ${configJson.value.apiEndpoint ?? 'no endpoint configured'}`,
      ipAddresses: identity.ipAddresses(),
    }),
  });
  const { metrics } = observability;
  const engine = new DockerEngine({
    socketPath: settings.engineSocket,
    logger,
    clock,
    requestTimeoutMs: settings.engineRequestTimeoutMs,
    onRequest: (method, outcome) => metrics.engineRequest(method, outcome),
  });
  const lockRoot = settings.lockRoot;
  // The kernel's boot (the host's, also inside a container): services needing a reboot wait for the next.
  const bootTime = clock.now() - uptime() * 1000;
  const locks = new HostUpdateLocks({ root: lockRoot, logger });

  // Local mode: BOSUN_LOCAL_MODE, else the cloud's SUPERVISOR_LOCAL_MODE, at run time (src/agent/wire-local-mode.ts).
  const { modeSwitch, cloudOrigin, cloudRuns, leaveAtStart } = await wireLocalMode({
    env,
    settingsLocalMode: settings.localMode,
    apiEndpoint: configJson.value.apiEndpoint,
    targets: store.targets,
    runPlan: (build, options) => reconciler.runPlan(build, options),
    announce: (message) => systemLogger.message(message),
    logger,
  });
  const localMode = modeSwitch.localMode;
  const targetLoader = wireTargetLoader({
    // A failed release is swapped for the last good one (src/reconciler/rollback/).
    targets: { load: (o) => rollback.load(o) },
    apiKeys: store.apiKeys,
    beforeLoad: () => modeSwitch.follow(),
    configJson,
    identity,
    localMode: () => modeSwitch.localMode,
    cloudOrigin,
    listenPort: settings.api.port,
    lockRoot,
    engineSocketPath: settings.engineSocket,
    logger,
  });
  const configVars = (): SupervisorConfig => targetLoader.configVars.config;

  // Capture → durable spool → /v2/local/logs, read-back, cloud log stream (src/logs/wire-logs.ts).
  const logs = await wireLogs({
    env: settings.logs,
    dataDir: settings.dataDir,
    persistentLogging: configJson.value.persistentLogging === true,
    localMode,
    source: engine,
    loggingEnabled: () => configVars().loggingEnabled,
    credentials: () => logStreamCredentials(configJson.value),
    // The cloud client's connection (keep-alive, TLS sessions, balenaRootCA); `cloud` is made below.
    agentFor: (url) => cloud?.agentFor(url),
    maxLogReaders: settings.maxLogReaders,
    scopeLabels: settings.scopeLabels,
    clock,
    logger,
    metrics,
    // Metrics count captured lines and the dashboard's live view sees them, on the way into the spool.
    wrapSink: (sink) => observability.logSink(sink),
  });
  const systemLogger = logs.systemLogger;
  // Health-gated rollback (src/reconciler/rollback/): watches each applied release for a window.
  const rollback = await wireRollback({
    store,
    settingsOf: (config) => {
      const vars = resolveConfigVars(config).config;
      return { enabled: vars.updateRollback, windowMs: vars.updateRollbackWindow };
    },
    clock,
    logger,
    announce: (t) => systemLogger.message(t),
  });
  // Every step's start, end and failure as a system line (docs/protocol.md#system-log-messages).
  const refusals = new TargetRefusals(systemLogger, logger);
  const stepLog = new StepSystemLog({
    systemLogger,
    logger,
    lockRetryMs: DEFAULT_RECONCILER_OPTIONS.lockPollMs,
  });
  const { reconciler } = createReconciler({
    engine,
    store,
    locks,
    clock,
    logger,
    loadTarget: refusals.watch(targetLoader.load),
    registryCredentials: () => ({
      deviceUuid: configJson.value.uuid,
      deviceApiKey: configJson.value.deviceApiKey,
      cloudRegistry: configJson.value.registryEndpoint,
    }),
    settings: () => ({
      ...planSettingsOf(targetLoader.storedConfig),
      localMode: modeSwitch.localMode,
    }),
    // Agents sharing one engine (tests) each see only what carries their labels.
    scopeLabels: settings.scopeLabels,
    stepListener: stepLog,
    onImagePulled: (name, engineId) => stepLog.imagePulled(name, engineId),
    onImageBytes: (bytes) => metrics.imagePulled(bytes),
    roundObserver: observability.roundObserver,
    storage: {
      reserveBytes: () => configVars().diskReserveBytes,
      dataRootPath: settings.engineDataRoot,
    },
    releaseChecks: rollback,
    options: { bootTime, supervisorNetwork: DEFAULT_SUPERVISOR_NETWORK },
  });

  // Host actions, guarded power, device facts, reboot-after-apply, mDNS (src/device/wire-device.ts).
  const device = wireDevice({
    env,
    identity,
    locks,
    apps: () => appsWithServices(reconciler.snapshot().target),
    config: {
      hostname: () => configJson.value.hostname,
      uuid: () => configJson.value.uuid,
      setHostname: async (hostname) => void (await configJson.update({ hostname })),
    },
    lockRoot,
    bootTime,
    mdnsInterfaces: settings.mdnsInterfaces,
    localMode,
    clock,
    logger,
  });
  const { power, facts: deviceFacts, mdns } = device;
  let listeningPort = settings.api.port;
  // Managed (config.json apiEndpoint, not in local mode): provisioning, polling, reports (src/cloud/).
  // Loaded only then: its HTTPS/TLS/zlib client is not what a local-mode agent carries while idle.
  const cloud = !cloudRuns
    ? undefined
    : (await import('./cloud/wire-cloud.js')).wireCloud({
        endpoint: cloudOrigin.endpoint,
        rootCaBase64: configJson.value.balenaRootCA,
        // A local openBalena is often `*.local`; minimal images have no nss-mdns to resolve it.
        lookup: (await import('./device/mdns-resolver.js')).mdnsFallbackLookup(),
        config: configJson,
        store: {
          save: (t) => store.targets.save(cloudOrigin, t),
          load: () => store.targets.load(cloudOrigin),
        },
        reconciler,
        facts: {
          deviceType: () => identity.deviceType,
          osVersion: () => identity.osVersion(),
          osVariant: () => identity.osVariant(),
          ipAddresses: () => deviceFacts.ipAddresses(),
          macAddresses: () => deviceFacts.macAddresses(),
          undervolted: undervoltageReader(() => clock.now()),
        },
        metrics: readHardwareMetrics,
        settings: () => ({
          // Before a target is stored, config.json's appUpdatePollInterval (its home) says.
          pollIntervalMs:
            Object.keys(targetLoader.storedConfig).length === 0
              ? (configJson.value.appUpdatePollInterval ?? configVars().appUpdatePollInterval)
              : configVars().appUpdatePollInterval,
          instantUpdates: configVars().instantUpdates,
          hardwareMetrics: configVars().hardwareMetrics,
          connectivityCheck: configVars().connectivityCheckEnabled,
        }),
        traffic: metrics,
        initialConfig: {
          reportedTo: () => store.config.get('initialConfigReported'),
          markReported: (endpoint) => store.config.set('initialConfigReported', endpoint),
          current: () => deviceConfigVarValues(configJsonAtStart, configVars()),
          defaults: deviceConfigVarValues({}, DEFAULT_SUPERVISOR_CONFIG),
          initialDeviceName: configJson.value.initialDeviceName,
        },
        apiPort: () => listeningPort,
        apiSecret: () => store.apiKeys.globalKey(),
        version,
        localMode: () => modeSwitch.localMode,
        systemLog: systemLogger,
        clock,
        logger,
        jitterMs: settings.cloudPollJitterMs,
        provisioningRetryMs: configJson.value.bootstrapRetryDelay,
      });
  // The one object the local API calls into (src/agent/wire-agent-facade.ts).
  const agent = wireAgentFacade({
    version,
    logger,
    clock,
    localMode: () => modeSwitch.localMode,
    targets: targetLoader,
    identity,
    apiPort: settings.api.port,
    reconciler,
    store,
    engine,
    host: device.host,
    power,
    device: deviceFacts,
    journal: new Journalctl(),
    cloud: cloud?.port,
    moreHealthChecks: cloud?.healthChecks,
    onTargetRefused: (error) => refusals.refused(error, 'pushed'),
  });
  const { server, port } = await wireApi(agent, {
    port: settings.api.port,
    host: settings.api.host,
    socketTimeoutMs: configJson.value.apiTimeout,
    early,
    logger,
    planPreview: planPreviewEndpoint(
      { normaliseContext: targetLoader.normaliseContext, store, reconciler },
      () => targetLoader.deviceName,
    ),
    localLogs: logs.localLogs,
    recentLogs: logs.recentLogs,
    deviceHostnames: () => deviceHostnames(configJson.value, identity.hostname()),
    ...(await observability.apiOptions()),
  });
  listeningPort = port;

  void leaveAtStart(); // queued before the loop starts, so it runs first
  reconciler.onStatus((status) => void device.rebootAfterApply.onStatus(status));
  rollback.onReload(() => reconciler.triggerApply({ force: false }));
  reconciler.start();
  void logs.start();
  cloud?.start();
  void mdns?.start();
  void settleCompileCache(compileCache, logger);

  stopOnSignals({
    log,
    budgetMs: SHUTDOWN_BUDGET_MS,
    server,
    stops: [
      () => reconciler.stop().then(() => rollback.stop()),
      () => logs.stop(),
      () => cloud?.stop(),
      () => mdns?.stop(),
      () => engine.close(),
    ],
    last: () => store.close(),
  });
}

/**
 * Runs the agent; `early` is the API port src/start.ts already opened (so `/ping` answered at once),
 * `compileCache` what it made of Node's compiled-code cache.
 */
export function startAgent(early: EarlyApi | undefined, compileCache: CompileCache): void {
  main(early, compileCache).catch((err: unknown) => {
    // A config or store error at start-up: say exactly what is wrong and stop (nothing was changed).
    const logger = createLogger({ level: 'info' });
    logger.error('agent.start-failed', {
      err,
      code: isBosunError(err) ? err.code : undefined,
      message: errorMessage(err),
    });
    setTimeout(() => process.exit(1), 50).unref();
    process.exitCode = 1;
  });
}
