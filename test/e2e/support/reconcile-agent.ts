/**
 * The bosun agent as a child process (the built bundle, see test/support/agent-command.ts) for reconcile end-to-end tests: local
 * mode on a free loopback port, its own data dir, lock root and owner label (BOSUN_SCOPE_LABELS), so it
 * only sees what its test made on the shared engine. Driven only through its local API.
 */
import { agentCommand } from '../../support/agent-command.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_LABEL } from '../../support/docker.js';
import { waitForPing } from './wait-for-ping.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

export class AgentProcess {
  child: ChildProcess | undefined;
  readonly url: string;
  stderrTail = '';
  /** The agent's structured log (stdout), bounded to its first 256 KiB. */
  logText = '';

  private constructor(
    readonly prefix: string,
    readonly dir: string,
    readonly port: number,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  static async create(prefix: string): Promise<AgentProcess> {
    const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
    return new AgentProcess(prefix, dir, await freePort());
  }

  get lockRoot(): string {
    return join(this.dir, 'locks');
  }

  /**
   * Starts the agent (with `extraEnv` on top of the test defaults, `nodeArgs` before the bundle) and
   * resolves once its whole API answers (or, with `pingOnly`, once `/ping` does).
   */
  async start(
    extraEnv: Record<string, string> = {},
    nodeArgs: string[] = [],
    options: { pingOnly?: boolean } = {},
  ): Promise<void> {
    const agent = agentCommand(nodeArgs);
    const child = spawn(agent.command, agent.args, {
      env: {
        ...process.env,
        BOSUN_DATA_DIR: join(this.dir, 'data'),
        BOSUN_LOCAL_MODE: 'true',
        BOSUN_API_HOST: '127.0.0.1',
        BOSUN_API_PORT: String(this.port),
        BOSUN_LOCK_ROOT: this.lockRoot,
        BOSUN_SCOPE_LABELS: `${TEST_LABEL}=${this.prefix}`,
        BOSUN_LOG_LEVEL: process.env['BOSUN_TEST_LOG'] ?? 'warn',
        // Each agent its own log spool (the default is under /run, keyed by the data dir).
        BOSUN_LOG_SPOOL_DIR: join(this.dir, 'log-spool'),
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => {
      if (this.logText.length < 256 * 1024) this.logText += chunk.toString();
      if (process.env['BOSUN_TEST_LOG'] !== undefined) process.stdout.write(chunk);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4000);
      if (process.env['BOSUN_TEST_LOG'] !== undefined) process.stderr.write(chunk);
    });
    await waitForPing(this.url, child, () => this.stderrTail, options);
  }

  /** SIGKILL: no clean-up of any kind, like a power cut of the agent. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    this.child = undefined;
  }

  async postLocalTarget(body: unknown): Promise<void> {
    const res = await fetch(`${this.url}/v2/local/target-state`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 200)
      throw new Error(`POST /v2/local/target-state: ${res.status} ${await res.text()}`);
  }

  async remove(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}

export interface LocalService {
  name: string;
  env?: Record<string, string>;
  /** Mount the app's `data` volume at /data. */
  data?: boolean;
  labels?: Record<string, string>;
}

/** Exits 0 at once on SIGTERM. */
export const LOOP_CMD = ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1 & wait $!; done'];

/**
 * The v2 body balena-cli posts in local mode, for one app whose services, `data` volume and `default`
 * network all carry the test's owner label (so only this test's agent sees them).
 */
export function localTargetBody(
  prefix: string,
  appId: number,
  commit: string,
  releaseId: number,
  image: string,
  services: LocalService[],
): unknown {
  const owner = { [TEST_LABEL]: prefix };
  return {
    local: {
      name: 'e2e-device',
      config: {},
      apps: {
        [String(appId)]: {
          name: 'e2e',
          commit,
          releaseId,
          services: Object.fromEntries(
            services.map((s, i) => [
              String(i + 1),
              {
                serviceName: s.name,
                serviceId: i + 1,
                imageId: i + 1,
                image,
                running: true,
                environment: s.env ?? {},
                labels: { ...owner, ...(s.labels ?? {}) },
                command: LOOP_CMD,
                stop_grace_period: '5s',
                ...(s.data === true ? { volumes: ['data:/data'] } : {}),
              },
            ]),
          ),
          volumes: { data: { labels: owner } },
          networks: { default: { labels: owner } },
        },
      },
    },
  };
}
