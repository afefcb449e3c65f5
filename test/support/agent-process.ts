/**
 * The bosun agent as a child process (the built bundle, see agent-command.ts), the one launcher of the
 * end-to-end tests and benchmarks. Each agent has its own data dir, lock root, log spool, free loopback
 * port and owner label (BOSUN_SCOPE_LABELS), so it only sees what its test made on the shared engine.
 *
 * Two ways to run it, as on a device: unmanaged in local mode (the default: driven through its local
 * API, as balena-cli does), or managed by a cloud peer (`cloud`: config.json holds only the cloud's
 * address, the peer's CA as balenaRootCA, a provisioning key, a fleet id and a device type).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForPing } from './wait-for-ping.js';
import { agentCommand } from './agent-command.js';
import type { CloudPeer } from './cloud-peer/index.js';
import { TEST_LABEL } from './docker.js';

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

export interface ManagedBy {
  peer: CloudPeer;
  fleetId: number;
  /** More config.json content (initialDeviceName, keys of other tools, …). */
  extraConfig?: Record<string, unknown>;
}

export class AgentProcess {
  child: ChildProcess | undefined;
  readonly url: string;
  stderrTail = '';
  /** The agent's structured log (stdout), bounded to its first 256 KiB. */
  logText = '';
  private stdoutTail = '';

  private constructor(
    readonly prefix: string,
    readonly dir: string,
    readonly port: number,
    private readonly managed: boolean,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  /** An unmanaged agent in local mode, or (with `cloud`) one managed by that cloud peer. */
  static async create(prefix: string, cloud?: ManagedBy): Promise<AgentProcess> {
    const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
    if (cloud !== undefined) {
      mkdirSync(join(dir, 'data'), { recursive: true });
      writeFileSync(
        join(dir, 'data', 'config.json'),
        JSON.stringify({
          apiEndpoint: cloud.peer.url,
          apiKey: cloud.peer.provisioningKey,
          applicationId: cloud.fleetId,
          deviceType: 'generic-amd64',
          balenaRootCA: cloud.peer.balenaRootCA,
          ...cloud.extraConfig,
        }),
      );
    }
    return new AgentProcess(prefix, dir, await freePort(), cloud !== undefined);
  }

  get lockRoot(): string {
    return join(this.dir, 'locks');
  }

  configJson(): Record<string, unknown> {
    return JSON.parse(readFileSync(join(this.dir, 'data', 'config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
  }

  /** The end of what the agent printed (log and errors), for failure messages. */
  output(): string {
    return `${this.stdoutTail}${this.stderrTail}`;
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
    // Managed: BOSUN_LOCAL_MODE unset, so local mode follows the cloud's SUPERVISOR_LOCAL_MODE.
    const { BOSUN_LOCAL_MODE: _pinned, ...inherited } = process.env;
    const mode = this.managed
      ? { BOSUN_CLOUD_POLL_JITTER_MS: '1000' }
      : { BOSUN_LOCAL_MODE: 'true' };
    const child = spawn(agent.command, agent.args, {
      env: {
        ...inherited,
        ...mode,
        BOSUN_DATA_DIR: join(this.dir, 'data'),
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
      this.stdoutTail = (this.stdoutTail + chunk.toString()).slice(-4000);
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

  /** SIGTERM: a clean stop (the spool commits, the shipper ends its batch); SIGKILL after 15 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    this.child = undefined;
  }

  /** POST /v2/local/target-state, as balena-cli pushes in local mode. */
  async postLocalTarget(body: unknown): Promise<void> {
    const res = await fetch(`${this.url}/v2/local/target-state`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 200)
      throw new Error(`POST /v2/local/target-state: ${res.status} ${await res.text()}`);
  }

  /** POST /v2/plan (`{}`: the stored target's plan), its status and the body as text. */
  async postPlan(body: unknown = {}): Promise<{ status: number; text: string }> {
    const res = await fetch(`${this.url}/v2/plan`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  }

  async remove(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}
