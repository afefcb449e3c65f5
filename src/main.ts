/**
 * Composition root: the only file that builds concrete adapters and wires them. Everything else
 * receives what it uses through its constructor.
 *
 * Start-up order is chosen so the API answers as early as possible (GET /ping is how balena-cli and
 * the engine healthcheck find us): config → store → API listening → reconciler. The engine may still
 * be starting: the reconciler retries with backoff and says so in its log.
 */
import { existsSync } from 'node:fs';
import { uptime } from 'node:os';
import { readFile } from 'node:fs/promises';
import { createApi } from './api/app.js';
import type { EarlyApi } from './api/early-ping.js';
import { openApiServer } from './api/open-server.js';
import { planPreviewEndpoint } from './agent/plan-preview.js';
import { deviceHostnames } from './api/request-guard.js';
import { logApiExposure } from './api/exposure-notice.js';
import { Agent } from './agent/agent.js';
import { revokeKeysOfRemovedApps } from './agent/api-keys.js';
import { agentHealthChecks } from './agent/health-checks.js';
import { describeCloudConnectivity } from './agent/cloud-connectivity-words.js';
import type { AgentSettings as FacadeSettings, DeviceFacts, HostActions } from './agent/ports.js';
import { loadConfiguration } from './config/load-configuration.js';
import { resolveLogLevel } from './config/agent-settings.js';
import {
  DEFAULT_SUPERVISOR_CONFIG,
  planSettingsOf,
  resolveConfigVars,
} from './config/config-vars.js';
import {
  deviceConfigVarValues,
  mirrorConfigVarsToConfigJson,
} from './config/config-json-mirror.js';
import { wireCloud } from './cloud/wire-cloud.js';
import { readHardwareMetrics } from './device/hardware-metrics.js';
import { undervoltageReader } from './device/undervoltage.js';
import { loadDeviceIdentity } from './device/load-identity.js';
import { appsWithServices, createHostActions } from './device/host-actions.js';
import { GuardedPower } from './device/guarded-power.js';
import { RebootAfterApply } from './device/reboot-after-apply.js';
import { MdnsAdvertiser } from './device/mdns.js';
import { Journalctl } from './device/journalctl.js';
import { HostUpdateLocks } from './device/locks.js';
import type { NormaliseContext } from './domain/context.js';
import type { TargetState } from './domain/model.js';
import { parseTargetDevice } from './domain/target/index.js';
import { DockerEngine } from './engine/docker-engine.js';
import { ensureSupervisorNetwork } from './executor/supervisor-network.js';
import { logStreamCredentials } from './logs/cloud-log-credentials.js';
import { wireLogs } from './logs/wire-logs.js';
import { wireObservability } from './observability/wiring.js';
import { leaveLocalMode } from './reconciler/local-mode-exit.js';
import { LocalModeSwitch } from './reconciler/local-mode-switch.js';
import { DEFAULT_RECONCILER_OPTIONS } from './reconciler/reconciler.js';
import { StepSystemLog } from './reconciler/step-system-log.js';
import { TargetRefusals } from './reconciler/target-refusals.js';
import { createReconciler } from './reconciler/wiring.js';
import { systemClock } from './shared/clock.js';
import { BosunError, errorMessage, isBosunError } from './shared/errors.js';
import { createLogger, type Logger } from './shared/logger.js';
import { openStoreWithRecovery, scheduleBackups } from './store/open-with-recovery.js';
import type { TargetOrigin } from './store/ports.js';

const SHUTDOWN_BUDGET_MS = 1_800;
const DEFAULT_API_SOCKET_TIMEOUT_MS = 900_000;

async function readVersion(): Promise<string> {
  // The bundle (scripts/build.mjs) carries its version; from source (tsx), read package.json.
  const built = process.env.BOSUN_BUILD_VERSION;
  if (built !== undefined) return built;
  let text: string;
  try {
    text = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
  } catch {
    text = await readFile(new URL('../package.json', import.meta.url), 'utf8');
  }
  const pkg = JSON.parse(text) as { version: string };
  return pkg.version;
}

async function main(early: EarlyApi | undefined): Promise<void> {
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
  let deviceName = 'local';
  // Metrics and the dashboard read the reconciler's snapshot, late-bound (it is built below).
  const observability = wireObservability({
    version,
    localMode: settings.localMode,
    clock,
    snapshot: () => reconciler.snapshot(),
    device: async () => ({
      name: deviceName,
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

  // Local mode: BOSUN_LOCAL_MODE when set, else the cloud target's SUPERVISOR_LOCAL_MODE, followed at
  // run time (src/reconciler/local-mode-switch.ts); an unmanaged device keeps BOSUN_LOCAL_MODE or local mode.
  const cloudOrigin: TargetOrigin = { kind: 'cloud', endpoint: configJson.value.apiEndpoint ?? '' };
  const managed = cloudOrigin.endpoint !== '';
  const pinnedByEnv = (env['BOSUN_LOCAL_MODE'] ?? '') !== '' || !managed;
  const storedCloud = pinnedByEnv ? undefined : await store.targets.load(cloudOrigin);
  const modeSwitch = new LocalModeSwitch({
    initial: storedCloud
      ? resolveConfigVars(storedCloud.config).config.localMode
      : settings.localMode,
    pinnedByEnv,
    cloudOrigin,
    targets: store.targets,
    engine,
    localModeOf: (config) => resolveConfigVars(config).config.localMode,
    announce: (message) => systemLogger.message(message),
    logger,
    scopeLabels: settings.scopeLabels,
  });
  const localMode = modeSwitch.localMode;
  const origin = (): TargetOrigin => (modeSwitch.localMode ? { kind: 'local' } : cloudOrigin);
  let configVars = resolveConfigVars({});
  let storedConfig: Readonly<Record<string, string>> = {};

  const normaliseContext = async (
    appApiKey: NormaliseContext['appApiKey'],
  ): Promise<NormaliseContext> => {
    const value = configJson.value;
    return {
      deviceUuid: value.uuid ?? '',
      deviceName,
      deviceType: identity.deviceType,
      deviceArch: identity.arch,
      osVersion: (await identity.osVersion()) ?? 'unknown',
      osBoardRev: await identity.osBoardRev(),
      hostname: value.hostname ?? identity.hostname(),
      apiEndpoint: value.apiEndpoint ?? '',
      deviceApiKey: value.deviceApiKey ?? '',
      supervisorNetworkGateway: '10.114.104.1',
      listenPort: settings.api.port,
      appApiKey,
      source: modeSwitch.localMode ? 'local' : 'cloud',
      lockRoot,
      engineSocketPath: settings.engineSocket,
      hostHasKernelModules: existsSync('/lib/modules'),
      hostHasFirmware: existsSync('/lib/firmware'),
    };
  };

  const loadTarget = async (): Promise<TargetState | undefined> => {
    await modeSwitch.follow();
    const stored = await store.targets.load(origin());
    if (stored === undefined) {
      await revokeKeysOfRemovedApps(store.apiKeys, new Set(), log);
      return undefined;
    }
    deviceName = stored.name;
    const configChanged = JSON.stringify(stored.config) !== JSON.stringify(storedConfig);
    storedConfig = stored.config;
    configVars = resolveConfigVars(stored.config);
    // An invalid value falls back to the default; say so once per target, naming var and value.
    if (configChanged)
      for (const warning of configVars.warnings) log.warn('config-var.invalid', { ...warning });
    const doc = { name: stored.name, config: stored.config, apps: stored.apps };
    // Normalisation looks app-scoped API keys up synchronously, and only for services with the
    // supervisor-api feature. A first pass records which ones it asks for (its own feature rules
    // decide), the store creates or reads just those keys, and the second pass uses them.
    const wanted = new Set<string>();
    parseTargetDevice(
      doc,
      await normaliseContext((appId, serviceName) => {
        wanted.add(`${appId}/${serviceName}`);
        return '';
      }),
    );
    const keys = new Map<string, string>();
    for (const entry of wanted) {
      const [appId, serviceName] = [
        Number(entry.slice(0, entry.indexOf('/'))),
        entry.slice(entry.indexOf('/') + 1),
      ];
      keys.set(entry, await store.apiKeys.appKey(appId, serviceName));
    }
    const parsed = parseTargetDevice(
      doc,
      await normaliseContext((appId, serviceName) => {
        const key = keys.get(`${appId}/${serviceName}`);
        if (key === undefined)
          throw new BosunError(
            'INTERNAL',
            `no API key prepared for app ${appId} service ${serviceName}`,
          );
        return key;
      }),
    );
    for (const warning of parsed.warnings) log.warn('target.warning', { warning });
    // SUPERVISOR_POLL_INTERVAL and SUPERVISOR_PERSISTENT_LOGGING live in config.json (atomic write).
    if (configChanged && origin().kind === 'cloud')
      await mirrorConfigVarsToConfigJson(configJson, configVars.config, logger).catch(
        (err: unknown) => log.error('config-json.write-failed', { err }),
      );
    // Keys of apps that left the target die with them; a returning app then gets a fresh key.
    const appIds = new Set(Object.values(parsed.target.apps).map((a) => a.appId));
    await revokeKeysOfRemovedApps(store.apiKeys, appIds, log);
    return parsed.target;
  };

  // Capture → durable spool → /v2/local/logs, read-back, cloud log stream (src/logs/wire-logs.ts).
  const logs = await wireLogs({
    env: settings.logs,
    dataDir: settings.dataDir,
    persistentLogging: configJson.value.persistentLogging === true,
    localMode,
    source: engine,
    loggingEnabled: () => configVars.config.loggingEnabled,
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
    loadTarget: refusals.watch(loadTarget),
    registryCredentials: () => ({
      deviceUuid: configJson.value.uuid,
      deviceApiKey: configJson.value.deviceApiKey,
      cloudRegistry: configJson.value.registryEndpoint,
    }),
    settings: () => ({ ...planSettingsOf(storedConfig), localMode: modeSwitch.localMode }),
    // Agents sharing one engine (tests) each see only what carries their labels.
    scopeLabels: settings.scopeLabels,
    stepListener: stepLog,
    onImagePulled: (name, engineId) => stepLog.imagePulled(name, engineId),
    onImageBytes: (bytes) => metrics.imagePulled(bytes),
    roundObserver: observability.roundObserver,
    storage: {
      reserveBytes: () => configVars.config.diskReserveBytes,
      dataRootPath: settings.engineDataRoot,
    },
    options: { bootTime },
  });

  // systemd/logind over D-Bus as balenaOS does (BOSUN_HOST_ACTIONS=record on a development machine);
  // reboot and power-off first wait for update locks unless forced (or lockOverride).
  const hostActions: HostActions = createHostActions(env, logger);
  const power = new GuardedPower({
    host: hostActions,
    locks,
    apps: () => appsWithServices(reconciler.snapshot().target),
    clock,
    logger,
  });
  const deviceFacts: DeviceFacts = {
    ipAddresses: () => Promise.resolve(identity.ipAddresses()),
    macAddresses: () => identity.macAddresses(),
    osVersion: () => identity.osVersion(),
    // No VPN on a generic host yet: the cloud binding brings it.
    vpnConnected: () => Promise.resolve(false),
    hostname: () => Promise.resolve(configJson.value.hostname ?? identity.hostname()),
    setHostname: async (hostname) => {
      const value = hostname === '' ? (configJson.value.uuid ?? '').slice(0, 7) : hostname;
      await configJson.update({ hostname: value });
    },
    proxy: () => Promise.resolve(undefined),
    setProxy: () =>
      Promise.reject(
        new BosunError(
          'NOT_READY',
          'proxy configuration needs the host proxy integration (redsocks), which this host does not have',
        ),
      ),
  };
  const facadeSettings = (): FacadeSettings => ({
    localMode: modeSwitch.localMode,
    deviceName,
    deviceType: identity.deviceType,
    arch: identity.arch,
    apiPort: settings.api.port,
    configVars: { ...storedConfig },
    instantUpdates: configVars.config.instantUpdates,
    vpnEnabled: configVars.config.vpnControl,
  });
  let listeningPort = settings.api.port;
  // Managed (config.json apiEndpoint, not in local mode): provisioning, polling, reports (src/cloud/).
  const cloud =
    !managed || (pinnedByEnv && localMode)
      ? undefined
      : wireCloud({
          endpoint: cloudOrigin.endpoint,
          rootCaBase64: configJson.value.balenaRootCA,
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
              Object.keys(storedConfig).length === 0
                ? (configJson.value.appUpdatePollInterval ??
                  configVars.config.appUpdatePollInterval)
                : configVars.config.appUpdatePollInterval,
            instantUpdates: configVars.config.instantUpdates,
            hardwareMetrics: configVars.config.hardwareMetrics,
            connectivityCheck: configVars.config.connectivityCheckEnabled,
          }),
          traffic: metrics,
          initialConfig: {
            reportedTo: () => store.config.get('initialConfigReported'),
            markReported: (endpoint) => store.config.set('initialConfigReported', endpoint),
            current: () => deviceConfigVarValues(configJsonAtStart, configVars.config),
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
  const agent = new Agent({
    version,
    logger,
    clock,
    settings: facadeSettings,
    reconciler,
    store,
    engine,
    host: hostActions,
    power: {
      request: (action, force) => power.request(action, force || configVars.config.lockOverride),
    },
    device: deviceFacts,
    journal: new Journalctl(),
    cloud: cloud?.port,
    healthChecks: [
      ...agentHealthChecks({ reconciler, store, now: () => clock.now() }),
      ...(cloud?.healthChecks ?? []),
    ],
    onTargetRefused: (error) => refusals.refused(error, 'pushed'),
  });
  const app = createApi(agent, {
    logger,
    planPreview: planPreviewEndpoint({ normaliseContext, store, reconciler }, () => deviceName),
    localLogs: logs.localLogs,
    recentLogs: logs.recentLogs,
    deviceHostnames: () => deviceHostnames(configJson.value, identity.hostname()),
    ...(await observability.apiOptions()),
  });
  // config.json apiTimeout: inactivity timeout of an API connection, as balena-supervisor uses it.
  const apiTimeout = configJson.value.apiTimeout ?? DEFAULT_API_SOCKET_TIMEOUT_MS;
  const server = await openApiServer(app, settings.api, early, apiTimeout);
  const address = server.address();
  if (typeof address === 'object' && address !== null) listeningPort = address.port;
  const port = typeof address === 'object' && address ? address.port : settings.api.port;
  log.info('api.listening', { host: settings.api.host, port });
  logApiExposure(log, { localMode: agent.isLocalMode(), host: settings.api.host, port });

  if (!localMode) {
    // Out of local mode (BOSUN_LOCAL_MODE=false after a local session): remove the local app's
    // containers, networks and images before the cloud target is applied. A failure keeps the local
    // target stored, so the next start tries again.
    await leaveLocalMode({
      engine,
      targets: store.targets,
      logger,
      scopeLabels: settings.scopeLabels,
    }).catch((err: unknown) => log.error('local-mode.exit-failed', { err }));
  }
  const rebootAfterApply = new RebootAfterApply({ lockRoot, bootTime, power, logger });
  reconciler.onStatus((status) => void rebootAfterApply.onStatus(status));
  reconciler.start();
  void logs.start();
  cloud?.start();
  // Opt-in (BOSUN_MDNS_INTERFACES=eth0,wlan0 or `all`): advertising multicasts on those interfaces,
  // which a development or CI host must not do by accident. Only while in local mode.
  const mdnsInterfaces = settings.mdnsInterfaces;
  const mdns =
    localMode && mdnsInterfaces !== undefined
      ? new MdnsAdvertiser({
          name: (configJson.value.uuid ?? identity.hostname()).slice(0, 7),
          interfaces: [...mdnsInterfaces],
          logger,
        })
      : undefined;
  mdns?.start();
  void ensureSupervisorNetwork(engine, logger, clock);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('agent.stopping', { signal });
    const deadline = setTimeout(() => {
      log.error('agent.stop-timeout', { budgetMs: SHUTDOWN_BUDGET_MS });
      process.exit(1);
    }, SHUTDOWN_BUDGET_MS);
    deadline.unref();
    server.closeAllConnections();
    const closed = Promise.allSettled([
      new Promise<void>((resolve) => server.close(() => resolve())),
      reconciler.stop(),
      logs.stop(),
      cloud?.stop(),
      mdns?.stop(),
      engine.close(),
    ]).then(() => store.close());
    closed.then(
      () => {
        log.info('agent.stopped', {});
        process.exit(0);
      },
      (err: unknown) => {
        log.error('agent.stop-failed', { err });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

/** Runs the agent; `early` is the API port src/start.ts already opened (so `/ping` answered at once). */
export function startAgent(early: EarlyApi | undefined): void {
  main(early).catch((err: unknown) => {
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
