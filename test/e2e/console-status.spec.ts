/**
 * The agent process as a person meets it: at a terminal (a real pseudo-terminal from util-linux
 * `script`) its log lines are text for people, through a pipe they stay JSON; and `bosun status`
 * prints the dashboard's words for the running agent, asking for the key in cloud mode.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { agentCommand } from '../support/agent-command.js';
import { cleanupByLabel, requireDocker, TEST_LABEL, uniquePrefix } from '../support/docker.js';
import { requireRegistries } from '../support/registry.js';
import { deviceKey, twoServiceBody, waitRunning } from './support/observe-agent.js';
import { AgentProcess, freePort } from '../support/agent-process.js';

const run = promisify(execFile);
const ESC = String.fromCharCode(27);
const ANSI = new RegExp(`${ESC}\\[[0-9;]*m`, 'g');

/** Starts the agent (no target), returns its first lines once it says it listens, and stops it. */
async function firstLines(prefix: string, onTerminal: boolean): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  const agent = agentCommand();
  const env = {
    ...process.env,
    BOSUN_DATA_DIR: join(dir, 'data'),
    BOSUN_LOCAL_MODE: 'true',
    BOSUN_API_HOST: '127.0.0.1',
    BOSUN_API_PORT: String(await freePort()),
    BOSUN_LOCK_ROOT: join(dir, 'locks'),
    BOSUN_SCOPE_LABELS: `${TEST_LABEL}=${prefix}`,
    BOSUN_LOG_LEVEL: 'info',
    // In its temporary dir: the default is under /run (tmpfs, RAM) and would outlive the test.
    BOSUN_LOG_SPOOL_DIR: join(dir, 'log-spool'),
  };
  const quoted = [agent.command, ...agent.args].map((a) => `'${a}'`).join(' ');
  const child = onTerminal
    ? spawn('script', ['-qfec', quoted, '/dev/null'], {
        env,
        detached: true,
        // script's own "Session terminated" notice goes to stderr: not ours to show.
        stdio: ['pipe', 'pipe', 'ignore'],
      })
    : spawn(agent.command, agent.args, {
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
  let out = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no api.listening line: ${out}`)), 60_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('api.listening')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
    });
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
  return out
    .replace(ANSI, '')
    .replace(/\r/g, '')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

describe('console and `bosun status`', function () {
  this.timeout(240_000);
  const prefix = uniquePrefix('e2e-cli');
  const appId = 40_000 + Math.floor(Math.random() * 20_000);
  let agent: AgentProcess | undefined;
  let managed: AgentProcess | undefined;

  before(async () => {
    await requireDocker();
    await requireRegistries();
  });
  after(async () => {
    await agent?.remove();
    await managed?.remove();
    await cleanupByLabel(prefix);
  });

  it('prints lines for people at a terminal', async () => {
    const lines = await firstLines(`${prefix}-tty`, true);
    const listening = lines.find((l) => l.includes('api.listening'));
    assert.match(
      listening ?? '',
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}main {7}api\.listening {2}host=127\.0\.0\.1 port=\d+$/,
      lines.join('\n'),
    );
    assert.ok(!lines.some((l) => l.startsWith('{')), 'no JSON at a terminal');
  });

  it('prints JSON through a pipe', async () => {
    const lines = await firstLines(`${prefix}-pipe`, false);
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const listening = records.find((r) => r['event'] === 'api.listening');
    assert.equal(listening?.['component'], 'main');
    assert.equal(typeof listening?.['port'], 'number');
  });

  it('`bosun status` says what the dashboard says', async () => {
    agent = await AgentProcess.create(prefix);
    await agent.start();
    await agent.postLocalTarget(twoServiceBody(prefix, appId, 'cccc001'));
    const running = await waitRunning(prefix, 'cccc001', ['main', 'worker']);
    const cli = agentCommand();
    const env = { ...process.env, BOSUN_API_PORT: String(agent.port) };
    // The state may still be settling right after the containers run: ask until it is up to date.
    let stdout = '';
    for (let i = 0; i < 60 && !stdout.includes('Up to date.'); i++) {
      ({ stdout } = await run(cli.command, [...cli.args, 'status'], { env }));
      if (!stdout.includes('Up to date.')) await new Promise((r) => setTimeout(r, 500));
    }
    const view = (await (await fetch(`${agent.url}/dashboard/state`)).json()) as {
      summary: string;
    };
    const lines = stdout.split('\n');
    assert.equal(lines[0], 'e2e-device · local mode · bosun 0.1.0');
    assert.equal(lines[1], view.summary);
    for (const c of running) {
      const line = lines.find((l) => l.trimStart().startsWith(`${c.service} `));
      assert.match(
        line ?? '',
        new RegExp(`Running +container ${c.id.slice(0, 12)} · 0 restarts`),
        stdout,
      );
    }
  });

  it('`bosun status` asks for the key in cloud mode and works with it', async () => {
    managed = await AgentProcess.create(`${prefix}-managed`);
    await managed.start({ BOSUN_LOCAL_MODE: 'false' });
    const cli = agentCommand();
    const env = { ...process.env, BOSUN_API_PORT: String(managed.port) };
    const refused = await run(cli.command, [...cli.args, 'status'], { env }).then(
      () => assert.fail('status without a key succeeded in cloud mode'),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /needs the device API key/);
    const { stdout } = await run(cli.command, [...cli.args, 'status'], {
      env: { ...env, BOSUN_API_KEY: deviceKey(managed) },
    });
    // No target yet: the default device name, in cloud mode.
    assert.match(stdout, /^local · cloud · bosun \d+\.\d+\.\d+\n/);
    assert.match(stdout, /No apps yet\./);
  });
});
