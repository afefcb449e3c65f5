/**
 * Latency of the status endpoints (GET /v2/applications/state, GET /v2/state/status) and agent memory.
 * Method: a child process runs the API over the real Agent facade, a real SQLite store and the real Docker
 * engine (test/integration/api-harness.ts), with a device of 10 services in its reconciler snapshot. The
 * parent sends 1,000 sequential requests, then 1,000 more in 50 concurrent streams, per endpoint, with the
 * global key (so every request also runs the SQLite key lookup), and records p50/p99 of each.
 * Then the same while an apply runs: the child replaces the reconciler snapshot every 20 ms (as an apply
 * does, invalidating the cached status view) while creating, starting and removing 10 real busybox
 * containers on the engine in a loop. RSS of the child is read before, between and after, after a GC.
 * The agent's CPU time per request is reported too: on a shared, overloaded machine it is the number
 * that does not move with the load; /ping is the floor for both.
 * Usage: node --expose-gc --import tsx bench/api.ts   (writes bench/results/api.json)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  APP_A,
  app,
  containerFor,
  emptyCurrent,
  image,
  release,
  service,
  target,
} from '../test/support/planner-builders.js';
import { startHarness, type Harness } from '../test/integration/api-harness.js';
import { TEST_IMAGES } from '../test/support/images.js';

const TEST_IMAGE = TEST_IMAGES.busybox;
type Msg =
  | { type: 'ready'; url: string; key: string }
  | { type: 'rss'; rss: number }
  | { type: 'cpu'; micros: number }
  | { type: 'ok' };

// ───────────────────────────── child: the agent ─────────────────────────────

async function serve(): Promise<void> {
  const h: Harness = await startHarness();
  const rel = { app: APP_A, commit: 'c0ffee', releaseId: 7 };
  const services = Array.from({ length: 10 }, (_, i) =>
    service(rel, `svc${i}`, { serviceId: i + 1 }),
  );
  const steady = target(app(APP_A, release(rel, { services })));
  const running = {
    ...emptyCurrent(),
    containers: services.map((s) => containerFor(APP_A, s)),
    images: services.map((s) => image(s.image)),
  };
  h.reconciler.set(steady, running);
  let applying: { stop: () => Promise<void> } | undefined;
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
        applying = startApply(h, steady, running);
        send({ type: 'ok' });
      } else if (m.type === 'apply-stop') {
        await applying?.stop();
        h.reconciler.applying = false;
        h.reconciler.set(steady, running);
        send({ type: 'ok' });
      } else if (m.type === 'exit') {
        await h.close();
        process.exit(0);
      }
    })();
  });
  send({ type: 'ready', url: h.url, key: h.globalKey });
}

function startApply(
  h: Harness,
  steady: ReturnType<typeof target>,
  running: ReturnType<typeof emptyCurrent>,
): { stop: () => Promise<void> } {
  let stopped = false;
  h.reconciler.applying = true;
  let progress = 0;
  const churn = setInterval(() => {
    progress = (progress + 3) % 100;
    h.reconciler.set(steady, {
      ...running,
      downloads: [{ image: 'registry.test/next:1', progress }],
    });
  }, 20);
  const prefix = `bosun-test-apibench-${process.pid}`;
  const engineWork = (async () => {
    let round = 0;
    while (!stopped) {
      const ids = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          h.engine
            .createContainer({
              name: `${prefix}-${round}-${i}`,
              Image: TEST_IMAGE,
              Cmd: ['sleep', '30'],
              Env: [],
              Labels: { 'bosun-test': prefix },
              Tty: false,
              HostConfig: { NetworkMode: 'none', RestartPolicy: { Name: 'no' } },
            })
            .then(async ({ id }) => {
              await h.engine.startContainer(id);
              return id;
            }),
        ),
      );
      await Promise.all(ids.map((id) => h.engine.removeContainer(id, { force: true })));
      round++;
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(churn);
      await engineWork;
    },
  };
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
    if (phase === 'applying') await ask(child, 'apply-stop');
    rss[`after ${phase}`] = ((await ask(child, 'rss')) as { rss: number }).rss;
  }
  child.send({ type: 'exit' });
  const mib = (b: number): number => Math.round((b / 1024 / 1024) * 10) / 10;
  const out = {
    unit: 'ms',
    results,
    rssMiB: Object.fromEntries(Object.entries(rss).map(([k, v]) => [k, mib(v)])),
    node: process.version,
  };
  console.table(results);
  console.log('RSS MiB', out.rssMiB);
  writeFileSync(
    new URL('./results/api.json', import.meta.url),
    JSON.stringify(out, null, 2) + '\n',
  );
}

if (process.argv.includes('--serve')) void serve();
else await main();
