/**
 * The bosun agent as a child process (the built bundle) managed by a cloud peer: its config.json holds
 * only the cloud's address (and the peer's CA as balenaRootCA), a provisioning key, a fleet id and a
 * device type. Scoped by its owner label on the shared engine, like the local-mode e2e agents.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentCommand } from '../../support/agent-command.js';
import type { CloudPeer } from '../../support/cloud-peer/index.js';
import { TEST_LABEL } from '../../support/docker.js';
import { freePort } from './reconcile-agent.js';
import { waitForPing } from './wait-for-ping.js';

export class CloudAgentProcess {
  child: ChildProcess | undefined;
  stderrTail = '';

  private constructor(
    readonly prefix: string,
    readonly dir: string,
    readonly port: number,
  ) {}

  static async create(
    prefix: string,
    peer: CloudPeer,
    fleetId: number,
    /** More config.json content (initialDeviceName, keys of other tools, …). */
    extraConfig: Record<string, unknown> = {},
  ): Promise<CloudAgentProcess> {
    const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(
      join(dir, 'data', 'config.json'),
      JSON.stringify({
        apiEndpoint: peer.url,
        apiKey: peer.provisioningKey,
        applicationId: fleetId,
        deviceType: 'generic-amd64',
        balenaRootCA: peer.balenaRootCA,
        ...extraConfig,
      }),
    );
    return new CloudAgentProcess(prefix, dir, await freePort());
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  configJson(): Record<string, unknown> {
    return JSON.parse(readFileSync(join(this.dir, 'data', 'config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
  }

  /** `extraEnv` on top (log spool bounds, batch sizes); the log spool lives in the agent's own dir. */
  async start(extraEnv: Record<string, string> = {}): Promise<void> {
    const agent = agentCommand();
    // BOSUN_LOCAL_MODE unset: managed by config.json, local mode follows the cloud's config var.
    const { BOSUN_LOCAL_MODE: _pinned, ...inherited } = process.env;
    const child = spawn(agent.command, agent.args, {
      env: {
        ...inherited,
        BOSUN_DATA_DIR: join(this.dir, 'data'),
        BOSUN_API_HOST: '127.0.0.1',
        BOSUN_API_PORT: String(this.port),
        BOSUN_LOCK_ROOT: join(this.dir, 'locks'),
        BOSUN_SCOPE_LABELS: `${TEST_LABEL}=${this.prefix}`,
        BOSUN_CLOUD_POLL_JITTER_MS: '1000',
        BOSUN_LOG_LEVEL: process.env['BOSUN_TEST_LOG'] ?? 'warn',
        BOSUN_LOG_SPOOL_DIR: join(this.dir, 'log-spool'),
        ...extraEnv,
      },
      // The agent logs JSON lines on stdout: shown only when BOSUN_TEST_LOG asks for them.
      stdio: ['ignore', process.env['BOSUN_TEST_LOG'] === undefined ? 'ignore' : 'inherit', 'pipe'],
    });
    this.child = child;
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4000);
      if (process.env['BOSUN_TEST_LOG'] !== undefined) process.stderr.write(chunk);
    });
    await waitForPing(this.url, child, () => this.stderrTail);
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

  /** SIGKILL: no clean-up at all. */
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
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    this.child = undefined;
  }

  async remove(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}
