/**
 * Reconciler benchmark on the real Docker engine (offline busybox test image, already in the engine).
 *
 * Side by side in one run:
 *   (a) empty → five running services (one image, one shared network, one named volume, each a shell that
 *       exits on SIGTERM), and
 *   (b) one environment change of one service (stop, remove, create, start of that container),
 * each done by bosun's reconciler (observe → plan → execute rounds, DockerEngine) and by the floor: the
 * same engine operations issued directly through dockerode with the same parallelism (4) and nothing
 * else. Reported: wall time (median of N runs) and engine API requests per operation (bosun counts every
 * HTTP request its DockerEngine makes; the floor makes exactly one request per operation).
 * Then, with the five services converged: engine requests and CPU time of this process per idle minute
 * (measured over IDLE_MS and scaled), and RSS across CYCLES converge/teardown cycles (after GC).
 *
 * Usage: node --expose-gc --import tsx bench/reconcile.ts
 *   env: BENCH_RUNS (default 5), BENCH_CYCLES (default 100), BENCH_IDLE_MS (default 60000)
 * Writes bench/results/reconcile.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type Dockerode from 'dockerode';
import type { TargetState } from '../src/domain/model.js';
import { cleanupByLabel, requireDocker, TEST_LABEL, testDocker } from '../test/support/docker.js';
import { TEST_IMAGES } from '../test/support/images.js';
import {
  dockerRig,
  dockerTarget,
  SERVICE_CMD,
  type DockerRig,
} from '../test/integration/support/reconciler-docker.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const CYCLES = Number(process.env['BENCH_CYCLES'] ?? 100);
const IDLE_MS = Number(process.env['BENCH_IDLE_MS'] ?? 60_000);
const NAMES = ['one', 'two', 'three', 'four', 'five'];
const CONCURRENCY = 4;

function five(rig: DockerRig, changed: boolean): TargetState {
  return dockerTarget(
    rig,
    'c1',
    NAMES.map((name) => ({
      name,
      data: true,
      env: { N: changed && name === 'three' ? 'changed' : name },
    })),
  );
}

const empty = (): TargetState => ({ name: 'device', config: {}, apps: {} });

async function settle(rig: DockerRig): Promise<void> {
  const status = await rig.reconciler.whenSettled();
  if (status.phase !== 'converged') throw new Error(`did not converge: ${JSON.stringify(status)}`);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function bounded<T>(items: T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

// ───────────────────────────── bosun ─────────────────────────────

async function bosunRun(): Promise<{
  upMs: number;
  upRequests: number;
  changeMs: number;
  changeRequests: number;
}> {
  const rig = await dockerRig('bench-rec', { concurrency: CONCURRENCY });
  try {
    const r0 = rig.engine.requestCount();
    rig.reconciler.start(); // no target yet: the event stream opens (one request)
    await settle(rig);
    const up = await timed(async () => {
      rig.reconciler.setTarget(five(rig, false));
      await settle(rig);
    });
    const r1 = rig.engine.requestCount();
    const change = await timed(async () => {
      rig.reconciler.setTarget(five(rig, true));
      await settle(rig);
    });
    const r2 = rig.engine.requestCount();
    return { upMs: up.ms, upRequests: r1 - r0, changeMs: change.ms, changeRequests: r2 - r1 };
  } finally {
    await rig.close();
  }
}

// ───────────────────────────── floor ─────────────────────────────

async function floorRun(
  docker: Dockerode,
  prefix: string,
): Promise<{ upMs: number; upRequests: number; changeMs: number; changeRequests: number }> {
  let requests = 0;
  const labels = { [TEST_LABEL]: prefix };
  const net = `${prefix}_default`;
  const vol = `${prefix}_data`;
  const create = (name: string, env: string): Promise<Dockerode.Container> => {
    requests++;
    return docker.createContainer({
      name: `${prefix}_${name}_${env}`,
      Image: TEST_IMAGES.busybox,
      Cmd: SERVICE_CMD,
      Env: [`N=${env}`],
      Labels: labels,
      StopTimeout: 5,
      HostConfig: { NetworkMode: net, Binds: [`${vol}:/data`], RestartPolicy: { Name: 'always' } },
      NetworkingConfig: { EndpointsConfig: { [net]: { Aliases: [name] } } },
    });
  };
  try {
    const containers = new Map<string, Dockerode.Container>();
    const up = await timed(async () => {
      requests += 2;
      await Promise.all([
        docker.createNetwork({ Name: net, Labels: labels }),
        docker.createVolume({ Name: vol, Labels: labels }),
      ]);
      await bounded(NAMES, async (name) => {
        const c = await create(name, name);
        containers.set(name, c);
        requests++;
        await c.start();
      });
    });
    const upRequests = requests;
    const change = await timed(async () => {
      const old = containers.get('three')!;
      requests += 2;
      await old.stop();
      await old.remove({ v: true });
      const c = await create('three', 'changed');
      requests++;
      await c.start();
    });
    return { upMs: up.ms, upRequests, changeMs: change.ms, changeRequests: requests - upRequests };
  } finally {
    await cleanupByLabel(prefix, docker);
  }
}

// ───────────────────────────── idle and memory ─────────────────────────────

async function idleAndMemory(): Promise<Record<string, number>> {
  const rig = await dockerRig('bench-rec-idle', { concurrency: CONCURRENCY });
  const gc = (globalThis as { gc?: () => void }).gc;
  try {
    rig.reconciler.start(five(rig, false));
    await settle(rig);
    await new Promise((r) => setTimeout(r, 1000)); // let the engine's echo events arrive
    const r0 = rig.engine.requestCount();
    const cpu0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const cpu = process.cpuUsage(cpu0);
    const idleRequests = rig.engine.requestCount() - r0;
    const perMinute = 60_000 / IDLE_MS;

    gc?.();
    const rssBefore = process.memoryUsage().rss;
    const samples: number[] = [];
    for (let i = 0; i < CYCLES; i++) {
      rig.reconciler.setTarget(empty());
      await settle(rig);
      rig.reconciler.setTarget(five(rig, i % 2 === 0));
      await settle(rig);
      if (i % 10 === 9) {
        gc?.();
        samples.push(process.memoryUsage().rss);
      }
    }
    gc?.();
    const rssAfter = process.memoryUsage().rss;
    return {
      idleWindowMs: IDLE_MS,
      idleEngineRequestsPerMinute: idleRequests * perMinute,
      idleCpuMsPerMinute: ((cpu.user + cpu.system) / 1000) * perMinute,
      cycles: CYCLES,
      rssBeforeCyclesMiB: rssBefore / 2 ** 20,
      rssAfterCyclesMiB: rssAfter / 2 ** 20,
      rssMaxSampleMiB: Math.max(rssBefore, ...samples) / 2 ** 20,
      gcExposed: gc === undefined ? 0 : 1,
    };
  } finally {
    await rig.close();
  }
}

async function main(): Promise<void> {
  await requireDocker();
  const docker = testDocker();
  const bosun: Array<Awaited<ReturnType<typeof bosunRun>>> = [];
  const floor: Array<Awaited<ReturnType<typeof floorRun>>> = [];
  for (let i = 0; i < RUNS; i++) {
    // Alternate so that engine warm-up and noise hit both sides alike.
    bosun.push(await bosunRun());
    floor.push(await floorRun(docker, `bosun-test-bench-floor-${process.pid}-${i}`));
  }
  const summary = (rows: typeof bosun) => ({
    upMsMedian: median(rows.map((r) => r.upMs)),
    upRequests: median(rows.map((r) => r.upRequests)),
    changeMsMedian: median(rows.map((r) => r.changeMs)),
    changeRequests: median(rows.map((r) => r.changeRequests)),
  });
  const b = summary(bosun);
  const f = summary(floor);
  const result = {
    runs: RUNS,
    concurrency: CONCURRENCY,
    emptyToFive: {
      bosunMs: b.upMsMedian,
      floorMs: f.upMsMedian,
      ratio: b.upMsMedian / f.upMsMedian,
      bosunEngineRequests: b.upRequests,
      floorEngineRequests: f.upRequests,
    },
    oneEnvChange: {
      bosunMs: b.changeMsMedian,
      floorMs: f.changeMsMedian,
      ratio: b.changeMsMedian / f.changeMsMedian,
      bosunEngineRequests: b.changeRequests,
      floorEngineRequests: f.changeRequests,
    },
    ...(await idleAndMemory()),
    raw: { bosun, floor },
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/reconcile.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify({ ...result, raw: undefined }, null, 2));
}

await main();
