/**
 * Latency of the status endpoints (GET /v2/applications/state, GET /v2/state/status) and agent memory.
 * Method: a child process (bench/api-real-device.ts) runs the real API, Agent, Reconciler, SQLite store
 * and Docker engine with 10 running busybox services. The parent sends 1,000 sequential requests, then
 * 1,000 more in 50 concurrent streams, per endpoint, with the global key. Then the same while releases
 * are being applied: the child flips the target between two image variants (all 10 containers
 * recreated each time) for as long as the measurement lasts. /ping is the floor (HTTP with no agent
 * work). Also reported: the agent's CPU µs per request (what does not move with machine load; during
 * the apply phase it includes the apply's own CPU) and its RSS before, between and after, after a GC.
 * Usage: node --expose-gc --import tsx bench/api.ts   (writes bench/results/api.json)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startRealDevice } from './api-real-device.js';

type Msg =
  | { type: 'ready'; url: string; key: string }
  | { type: 'rss'; rss: number }
  | { type: 'cpu'; micros: number }
  | { type: 'ok' }
  | { type: 'applied'; releases: number };

// ───────────────────────────── child: the agent ─────────────────────────────

async function serve(): Promise<void> {
  const device = await startRealDevice(10);
  const send = (m: Msg): void => void process.send!(m);
  process.on('message', (m: { type: string }) => {
    void (async () => {
      if (m.type === 'cpu') {
        const u = process.cpuUsage();
        send({ type: 'cpu', micros: u.user + u.system });
      } else if (m.type === 'rss') {
        globalThis.gc?.();
        send({ type: 'rss', rss: process.memoryUsage().rss });
      } else if (m.type === 'apply-start') {
        device.startApplying();
        send({ type: 'ok' });
      } else if (m.type === 'apply-stop') {
        send({ type: 'applied', releases: await device.stopApplying() });
      } else if (m.type === 'exit') {
        await device.close();
        send({ type: 'ok' });
        process.exit(0);
      }
    })();
  });
  send({ type: 'ready', url: device.url, key: device.key });
}

// ───────────────────────────── parent: the load ─────────────────────────────

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timed(url: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  const res = await fetch(url);
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function measure(
  url: string,
  total: number,
  concurrency: number,
): Promise<{ p50: number; p99: number; max: number }> {
  const samples: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        samples.push(await timed(url));
      }
    }),
  );
  samples.sort((a, b) => a - b);
  const r = (x: number): number => Math.round(x * 100) / 100;
  return {
    p50: r(percentile(samples, 50)),
    p99: r(percentile(samples, 99)),
    max: r(samples.at(-1)!),
  };
}

function ask(child: ChildProcess, type: string): Promise<Msg> {
  return new Promise((resolve) => {
    child.once('message', (m: Msg) => resolve(m));
    child.send({ type });
  });
}

async function cpuMicros(child: ChildProcess): Promise<number> {
  const m = await ask(child, 'cpu');
  if (m.type !== 'cpu') throw new Error(`unexpected answer ${m.type}`);
  return m.micros;
}

async function main(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
  });
  const ready = await new Promise<Msg>((resolve) => child.once('message', (m: Msg) => resolve(m)));
  if (ready.type !== 'ready') throw new Error('child did not start');
  // /ping is the floor: what this machine's HTTP round trip costs with no agent work at all.
  const endpoints = ['/ping', '/v2/applications/state', '/v2/state/status'];
  // Warm-up: JIT, connection pool, SQLite page cache.
  for (const e of endpoints) await measure(`${ready.url}${e}?apikey=${ready.key}`, 200, 10);
  const rss: Record<string, number> = {};
  rss['before'] = ((await ask(child, 'rss')) as { rss: number }).rss;
  const results: Record<string, unknown> = {};
  let releasesApplied = 0;
  for (const phase of ['idle', 'applying'] as const) {
    if (phase === 'applying') await ask(child, 'apply-start');
    for (const e of endpoints) {
      const url = `${ready.url}${e}?apikey=${ready.key}`;
      const cpu0 = await cpuMicros(child);
      const sequential = await measure(url, 1000, 1);
      const cpu1 = await cpuMicros(child);
      const concurrent = await measure(url, 1000, 50);
      const cpu2 = await cpuMicros(child);
      // Agent CPU per request (µs): unlike wall-clock latency it does not depend on how busy the machine is
      // (during an apply it also includes the simulated apply's own work).
      results[`${phase} ${e} sequential`] = {
        ...sequential,
        agentCpuUs: Math.round((cpu1 - cpu0) / 1000),
      };
      results[`${phase} ${e} 50-concurrent`] = {
        ...concurrent,
        agentCpuUs: Math.round((cpu2 - cpu1) / 1000),
      };
    }
    if (phase === 'applying') {
      const m = await ask(child, 'apply-stop');
      if (m.type === 'applied') releasesApplied = m.releases;
    }
    rss[`after ${phase}`] = ((await ask(child, 'rss')) as { rss: number }).rss;
  }
  await ask(child, 'exit');
  const mib = (b: number): number => Math.round((b / 1024 / 1024) * 10) / 10;
  const out = {
    unit: 'ms',
    results,
    releasesAppliedDuringApplyPhase: releasesApplied,
    rssMiB: Object.fromEntries(Object.entries(rss).map(([k, v]) => [k, mib(v)])),
    node: process.version,
  };
  console.table(results);
  console.log(
    'RSS MiB',
    out.rssMiB,
    '| releases applied (10 containers recreated each) during the apply phase:',
    releasesApplied,
  );
  writeFileSync(
    new URL('./results/api.json', import.meta.url),
    JSON.stringify(out, null, 2) + '\n',
  );
}

if (process.argv.includes('--serve')) void serve();
else await main();
