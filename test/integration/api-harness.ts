/**
 * Builds the real API over the real Agent facade, a real SQLite store (temp file) and the real Docker
 * engine, listening on 127.0.0.1:<random>. The reconciler is the one stand-in: RecordingReconciler
 * records which intermediate targets the agent asks for — that *is* the point of the API tests (actions
 * must go through the reconciler, never around it); the reconciler has its own suites. Its status comes
 * from the real computeStatus over a target/current the test sets.
 */
import type { Server } from 'node:http';
import { Agent, type AgentDeps } from '../../src/agent/agent.js';
import type {
  AgentSettings,
  DeviceFacts,
  HostActions,
  IntermediateOptions,
  ReconcilerPort,
  ReconcilerSnapshot,
} from '../../src/agent/ports.js';
import type { AgentApi, ProxyConfig } from '../../src/api/agent-api.js';
import type { ApiOptions } from '../../src/api/app.js';
import { wireApi, type WireApiOptions } from '../../src/api/wire-api.js';
import type { CurrentState, TargetState } from '../../src/domain/model.js';
import { Journalctl } from '../../src/device/journalctl.js';
import { DockerEngine } from '../../src/engine/docker-engine.js';
import { computeStatus } from '../../src/reconciler/status.js';
import type { Plan } from '../../src/planner/steps.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/ports.js';
import { makeTempDir, type TempDir } from '../support/store-temp.js';
import { emptyCurrent } from '../support/planner-builders.js';

export class RecordingReconciler implements ReconcilerPort {
  target: TargetState | undefined;
  current: CurrentState = emptyCurrent();
  plan: Plan | undefined;
  applying = false;
  rounds = 1;
  readonly intermediates: Array<{ target: TargetState; options: IntermediateOptions }> = [];
  readonly applies: Array<{ force: boolean }> = [];
  readonly held: Array<{ appUuid: string; serviceName: string; stopped: boolean }> = [];
  /** Volume clean-ups asked for (the real one is a plan: reconciler-side-channels.spec.ts). */
  readonly volumeCleanups: Array<number | undefined> = [];
  /** When set, the next applyIntermediate rejects with it (to test error mapping). */
  failWith: Error | undefined;
  private cached: ReconcilerSnapshot | undefined;

  /** A reconcile round finished (what the real reconciler publishes after planning). */
  round(): void {
    this.rounds++;
    this.cached = undefined;
  }

  set(target: TargetState | undefined, current: CurrentState = emptyCurrent(), plan?: Plan): void {
    this.target = target;
    this.current = current;
    this.plan = plan;
    this.cached = undefined;
  }

  snapshot(): ReconcilerSnapshot {
    this.cached ??= {
      target: this.target,
      current: this.current,
      status: computeStatus({
        target: this.target,
        current: this.current,
        plan: this.plan,
        downloads: this.current.downloads,
        acting: new Map(),
        errors: new Map(),
        applying: this.applying,
        phase: this.applying ? 'applying' : 'converged',
        rounds: this.rounds,
        lastAppliedAt: undefined,
        lastError: undefined,
      }),
    };
    return this.cached;
  }

  triggerApply(options: { force: boolean }): void {
    this.applies.push(options);
  }

  applyIntermediate(target: TargetState, options: IntermediateOptions): Promise<void> {
    if (this.failWith !== undefined) {
      const err = this.failWith;
      this.failWith = undefined;
      return Promise.reject(err);
    }
    this.intermediates.push({ target, options });
    return Promise.resolve();
  }

  holdStopped(appUuid: string, serviceName: string, stopped: boolean): void {
    this.held.push({ appUuid, serviceName, stopped });
  }

  cleanupVolumes(appId: number | undefined): Promise<{ removed: string[] }> {
    this.volumeCleanups.push(appId);
    return Promise.resolve({ removed: [] });
  }
}

/** Host actions are recorded, never performed: tests must not reboot the machine. */
export class RecordingHost implements HostActions {
  readonly calls: string[] = [];
  reboot(): Promise<void> {
    this.calls.push('reboot');
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    this.calls.push('shutdown');
    return Promise.resolve();
  }
  blink(): Promise<void> {
    this.calls.push('blink');
    return Promise.resolve();
  }
}

/** Device facts held in memory; hostname/proxy changes are recorded so tests can see what was asked. */
export class MemoryDevice implements DeviceFacts {
  name = 'bosun-dev';
  proxyConfig: ProxyConfig | undefined;
  ipAddresses = (): Promise<string[]> => Promise.resolve(['192.168.1.20', '10.42.0.1']);
  macAddresses = (): Promise<string[]> => Promise.resolve(['02:42:AC:11:00:02']);
  osVersion = (): Promise<string | undefined> => Promise.resolve('Debian 12');
  vpnConnected = (): Promise<boolean> => Promise.resolve(false);
  hostname = (): Promise<string> => Promise.resolve(this.name);
  setHostname = (hostname: string): Promise<void> => {
    this.name = hostname === '' ? 'abcdef0' : hostname;
    return Promise.resolve();
  };
  proxy = (): Promise<ProxyConfig | undefined> => Promise.resolve(this.proxyConfig);
  setProxy = (proxy: Partial<ProxyConfig>): Promise<void> => {
    this.proxyConfig =
      Object.keys(proxy).length === 0
        ? undefined
        : ({ ...this.proxyConfig, ...proxy } as ProxyConfig);
    return Promise.resolve();
  };
}

/** What the facade reports as its settings in tests: a generic x86 device out of local mode. */
export function testAgentSettings(overrides: Partial<AgentSettings> = {}): AgentSettings {
  return {
    localMode: false,
    deviceName: 'dev',
    deviceType: 'genericx86-64-ext',
    arch: 'amd64',
    apiPort: 48484,
    configVars: {},
    instantUpdates: true,
    vpnEnabled: false,
    ...overrides,
  };
}

export interface Harness {
  url: string;
  store: Store;
  engine: DockerEngine;
  reconciler: RecordingReconciler;
  host: RecordingHost;
  device: MemoryDevice;
  settings: AgentSettings;
  health: { healthy: boolean; reason?: string };
  globalKey: string;
  close(): Promise<void>;
}

export async function startHarness(
  overrides: Partial<AgentDeps> = {},
  /** More of the API (metrics, dashboard); late-bound to the harness when a function. */
  apiOptions: (h: Pick<Harness, 'reconciler'>) => Partial<ApiOptions> = () => ({}),
  /** Builds the agent's deps from the harness' own store and engine (e.g. a real reconciler over them). */
  withParts?: (parts: { store: Store; engine: DockerEngine }) => Partial<AgentDeps>,
): Promise<Harness> {
  const dir: TempDir = makeTempDir('bosun-test-api-');
  const logger = silentLogger();
  const store = await openStore({ path: dir.file('bosun.sqlite'), logger });
  const engine = new DockerEngine({ logger, clock: systemClock });
  const fromParts = withParts?.({ store, engine }) ?? {};
  const reconciler = new RecordingReconciler();
  const host = new RecordingHost();
  const device = new MemoryDevice();
  const settings = testAgentSettings({
    deviceName: 'my-device',
    configVars: { HOST_CONFIG_foo: 'bar' },
    vpnEnabled: true,
  });
  const health: Harness['health'] = { healthy: true };
  const agent = new Agent({
    version: '0.1.0',
    logger,
    clock: systemClock,
    settings: () => settings,
    reconciler,
    store,
    engine,
    host,
    device,
    healthChecks: [{ name: 'test', run: () => health }],
    hostActionDelayMs: 0,
    journal: new Journalctl(),
    ...overrides,
    ...fromParts,
  });
  const { server, url } = await listenApi(agent, {
    logger,
    deviceHostnames: () => [device.name],
    ...apiOptions({ reconciler }),
  });
  const globalKey = await store.apiKeys.globalKey();
  return {
    url,
    store,
    engine,
    reconciler,
    host,
    device,
    settings,
    health,
    globalKey,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await engine.close();
      await store.close();
      dir.remove();
    },
  };
}

/**
 * The API over `agent` on 127.0.0.1 at a free port, wired by the same function main.ts uses (wireApi:
 * the Express app, the connection timeout, the exposure notice), so tests exercise the production wiring.
 */
export async function listenApi(
  agent: AgentApi,
  options: Omit<WireApiOptions, 'port' | 'host' | 'early'>,
): Promise<{ server: Server; url: string }> {
  const { server, port } = await wireApi(agent, { ...options, port: 0, host: '127.0.0.1' });
  return { server, url: `http://127.0.0.1:${port}` };
}

export interface Reply {
  status: number;
  contentType: string;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped JSON from the peer
  json: any;
}

export async function call(
  h: Harness,
  method: string,
  path: string,
  options: {
    key?: string | undefined;
    header?: string;
    body?: unknown;
    rawBody?: string;
    contentType?: string;
  } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.header !== undefined) headers['authorization'] = options.header;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const sep = path.includes('?') ? '&' : '?';
  const url = `${h.url}${path}${options.key === undefined ? '' : `${sep}apikey=${options.key}`}`;
  const res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  return {
    status: res.status,
    contentType,
    text,
    json: contentType.includes('application/json') ? JSON.parse(text) : undefined,
  };
}
