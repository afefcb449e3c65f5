/**
 * Start-to-ready and idle memory of the agent process.
 * Method: build first (`npm run build`). For each of N runs, spawn `node --max-semi-space-size=1 dist/bosun.mjs` (what bin/bosun runs) with a fresh
 * data dir and port, poll GET /ping every 2 ms, and record the time from spawn to the first 200. The
 * floor is the same measurement for a bare Node HTTP server answering /ping (what Node itself needs).
 * All agents are kept running; 60 s after the last one became ready, VmRSS of each is read from
 * /proc. Prints medians and writes bench/results/startup.json.
 * Usage: node --import tsx bench/startup.ts [--runs 5] [--idle-seconds 60]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const runs = arg('runs', 5);
const idleSeconds = arg('idle-seconds', 60);
const basePort = 49000 + Math.floor(Math.random() * 1000);

async function waitForPing(port: number, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`process exited with ${child.exitCode} before answering /ping`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/ping`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(2);
  }
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  return kb / 1024;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function measure(
  kind: 'agent' | 'floor',
  port: number,
): Promise<{ readyMs: number; child: ChildProcess }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bosun-bench-'));
  mkdirSync(dataDir, { recursive: true });
  const cmd =
    kind === 'agent'
      ? ['--max-semi-space-size=1', '--optimize-for-size', 'dist/bosun.mjs']
      : ['-e', `require('http').createServer((q,s)=>s.end('OK')).listen(${port},'127.0.0.1')`];
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, cmd, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      BOSUN_DATA_DIR: dataDir,
      BOSUN_API_PORT: String(port),
      BOSUN_API_HOST: '127.0.0.1',
      BOSUN_LOCAL_MODE: 'true',
      BOSUN_LOG_LEVEL: 'warn',
    },
  });
  await waitForPing(port, child);
  const readyMs = Number(process.hrtime.bigint() - started) / 1e6;
  return { readyMs, child };
}

const agents: Array<{ readyMs: number; child: ChildProcess }> = [];
const floors: number[] = [];
try {
  for (let i = 0; i < runs; i++) {
    const floor = await measure('floor', basePort + 100 + i);
    floors.push(floor.readyMs);
    floor.child.kill('SIGKILL');
    agents.push(await measure('agent', basePort + i));
  }
  await sleep(idleSeconds * 1000);
  const rss = agents.map((a) => rssMiB(a.child.pid!));
  const result = {
    runs,
    idleSeconds,
    readyMs: { median: median(agents.map((a) => a.readyMs)), all: agents.map((a) => a.readyMs) },
    floorReadyMs: { median: median(floors), all: floors },
    idleRssMiB: { median: median(rss), all: rss },
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/startup.json', JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result, null, 2));
} finally {
  for (const a of agents) a.child.kill('SIGTERM');
}
