/**
 * Reconciler benchmark against the engine floor, on an engine of its own (scripts/private-engine.sh
 * "converge"), so that other work's containers and events neither load the engine nor wake the agent.
 *
 * Side by side in one run, alternating bosun and floor runs (BENCH_RUNS each, medians):
 *   (a) empty → five running services (one image already in the engine, one shared network, one named
 *       volume, each a shell that exits on SIGTERM), and
 *   (b) one environment change of one service (stop, remove, create, start of that container),
 * each done by bosun's reconciler (observe → plan → execute rounds over its DockerEngine, SQLite store,
 * lock files) and by the floor: the same engine operations with the same create bodies (built from the
 * same target, the config-hash label included), issued directly through dockerode with the same
 * parallelism (4: network and volume together, then each service's create → start) and nothing else.
 *
 * Observed the same way: both start when the operation is asked for (bosun: `setTarget`; floor: its first
 * request), and both end when the bench's own engine event stream (one for the whole run) has received
 * the `start` events of the run's containers that the operation needs (five for (a), one for (b)). After
 * each operation, outside the timing, both sides' containers are checked running with the target env.
 * What the caller learns (bosun: `whenSettled` resolves, which includes its last observation; floor: its
 * last request answered) is reported next to it as "settled".
 *
 * Also reported: engine API requests per operation (bosun counts every HTTP request of its DockerEngine;
 * the floor makes one per operation), and with BENCH_TRACE=1 a timeline of one bosun run (every engine
 * adapter call, the rounds and steps). With BENCH_IDLE_MS > 0: engine requests and CPU per idle minute
 * and RSS across BENCH_CYCLES converge/teardown cycles.
 *
 * Usage: node --expose-gc --import tsx bench/reconcile.ts
 *   env: BENCH_RUNS (9), BENCH_CYCLES (20), BENCH_IDLE_MS (0), BENCH_TRACE (0),
 *        BENCH_SHARED_ENGINE=1 to run on the machine's engine instead (the old method).
 * Writes bench/results/reconcile.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Dockerode from 'dockerode';
import { HostUpdateLocks } from '../src/device/locks.js';
import { CONFIG_HASH_LABEL } from '../src/domain/config-hash.js';
import type { ServiceTarget, TargetState } from '../src/domain/model.js';
import { DockerEngine } from '../src/engine/docker-engine.js';
import type { EngineAdapter } from '../src/engine/port.js';
import { createReconciler } from '../src/reconciler/wiring.js';
import { systemClock } from '../src/shared/clock.js';
import { silentLogger } from '../src/shared/logger.js';
import { openStore } from '../src/store/open-store.js';
import { cleanupByLabel, TEST_LABEL, uniquePrefix } from '../test/support/docker.js';
import { TEST_IMAGES } from '../test/support/images.js';
import { dockerTarget, type DockerRig } from '../test/integration/support/reconciler-docker.js';
import { EngineWatch, formatTrace, traced, type TraceEntry } from './support/converge-watch.js';
import { startPrivateEngine } from './support/private-engine.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 9);
const CYCLES = Number(process.env['BENCH_CYCLES'] ?? 20);
const IDLE_MS = Number(process.env['BENCH_IDLE_MS'] ?? 0);
const TRACE = process.env['BENCH_TRACE'] === '1';
const NAMES = ['one', 'two', 'three', 'four', 'five'];
const CONCURRENCY = 4;

const socket =
  process.env['BENCH_SHARED_ENGINE'] === '1'
    ? '/var/run/docker.sock'
    : startPrivateEngine('converge').socket;
const docker = new Dockerode({ socketPath: socket });
const watch = new EngineWatch();

interface Rig extends Pick<DockerRig, 'prefix' | 'uuid' | 'appId' | 'lockRoot'> {
  engine: DockerEngine;
  reconciler: ReturnType<typeof createReconciler>['reconciler'];
  trace: TraceEntry[];
  close(): Promise<void>;
}

async function benchRig(area: string): Promise<Rig> {
  const prefix = uniquePrefix(area);
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  const logger = silentLogger();
  const trace: TraceEntry[] = [];
  const engine = new DockerEngine({ socketPath: socket, logger, clock: systemClock });
  const store = await openStore({ path: join(dir, 'db.sqlite'), logger });
  const lockRoot = join(dir, 'locks');
  const locks = new HostUpdateLocks({ root: lockRoot, logger });
  const tracedEngine: EngineAdapter = TRACE ? traced(engine, trace, 'engine') : engine;
  const { reconciler } = createReconciler({
    engine: tracedEngine,
    store: TRACE
      ? {
          commits: traced(store.commits, trace, 'store.commits'),
          images: traced(store.images, trace, 'store.images'),
        }
      : store,
    locks: TRACE ? traced(locks, trace, 'locks') : locks,
    clock: systemClock,
    logger,
    settings: () => ({ lockOverride: false, localMode: true }),
    scopeLabels: [`${TEST_LABEL}=${prefix}`],
    options: { concurrency: CONCURRENCY },
    ...(TRACE
      ? {
          stepListener: {
            stepStarted: (step) => trace.push({ at: performance.now(), what: `step+ ${step.id}` }),
            stepEnded: (o) => trace.push({ at: performance.now(), what: `step- ${o.step.id}` }),
          },
          roundObserver: {
            planned: (plan) =>
              trace.push({ at: performance.now(), what: `planned ${plan.steps.length} steps` }),
            roundEnded: () => trace.push({ at: performance.now(), what: 'round ended' }),
            stepEnded: () => undefined,
          },
        }
      : {}),
  });
  return {
    prefix,
    uuid: randomBytes(16).toString('hex'),
    appId: 10_000 + (randomBytes(2).readUInt16BE() % 50_000),
    lockRoot,
    engine,
    reconciler,
    trace,
    close: async () => {
      await reconciler.stop();
      await cleanupByLabel(prefix, docker);
      await engine.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function five(rig: Pick<Rig, 'prefix' | 'uuid' | 'appId' | 'lockRoot'>, changed: boolean) {
  return dockerTarget(
    rig as DockerRig,
    'c1',
    NAMES.map((name) => ({
      name,
      data: true,
      env: { N: changed && name === 'three' ? 'changed' : name },
    })),
  );
}

function services(target: TargetState): ServiceTarget[] {
  return Object.values(target.apps).flatMap((a) => Object.values(a.release?.services ?? {}));
}

/** Outside the timing: every container of `owner` runs, and with the env the target asks for. */
async function check(owner: string, target: TargetState): Promise<void> {
  const want = new Map(services(target).map((s) => [s.serviceName, s.createSpec.Env.join(',')]));
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`${TEST_LABEL}=${owner}`] },
  });
  const got = await Promise.all(list.map((c) => docker.getContainer(c.Id).inspect()));
  const running = got.filter((c) => c.State.Running);
  const ok =
    running.length === want.size &&
    got.length === want.size &&
    running.every((c) => {
      const name = c.Config.Labels['io.balena.service-name'] ?? '';
      return want.get(name) === c.Config.Env.filter((e) => e.startsWith('N=')).join(',');
    });
  if (!ok) throw new Error(`${owner}: containers are not what the target asks for`);
}

interface Row {
  upMs: number;
  upSettledMs: number;
  upRequests: number;
  changeMs: number;
  changeSettledMs: number;
  changeRequests: number;
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

async function bosunRun(trace: boolean): Promise<Row> {
  const rig = await benchRig('bench-rec');
  try {
    rig.reconciler.start(); // no target yet: the event stream opens (one request)
    await rig.reconciler.whenSettled();
    const measure = async (target: TargetState, starts: number) => {
      const r0 = rig.engine.requestCount();
      rig.trace.length = 0;
      const t0 = performance.now();
      rig.reconciler.setTarget(target);
      const [status] = await Promise.all([
        rig.reconciler.whenSettled().then((s) => ({ s, at: performance.now() })),
        watch.starts(rig.prefix, t0, starts),
      ]);
      if (status.s.phase !== 'converged') throw new Error(`not converged: ${status.s.phase}`);
      const end = await watch.starts(rig.prefix, t0, starts);
      // Our own echo events may arrive after settling; let them, so the next count is the next operation's.
      await new Promise((r) => setTimeout(r, 200));
      if (trace) console.error(`--- bosun trace (t0 = setTarget)\n${formatTrace(rig.trace, t0)}`);
      await check(rig.prefix, target);
      return {
        ms: end - t0,
        settledMs: status.at - t0,
        requests: rig.engine.requestCount() - r0,
      };
    };
    const up = await measure(five(rig, false), 5);
    const change = await measure(five(rig, true), 1);
    return {
      upMs: up.ms,
      upSettledMs: up.settledMs,
      upRequests: up.requests,
      changeMs: change.ms,
      changeSettledMs: change.settledMs,
      changeRequests: change.requests,
    };
  } finally {
    await rig.close();
  }
}

// ───────────────────────────── floor ─────────────────────────────

async function floorRun(): Promise<Row> {
  const rig = {
    prefix: uniquePrefix('bench-floor'),
    uuid: randomBytes(16).toString('hex'),
    appId: 10_000 + (randomBytes(2).readUInt16BE() % 50_000),
    lockRoot: join(tmpdir(), `bosun-bench-floor-${randomBytes(4).toString('hex')}`),
  };
  let requests = 0;
  const create = async (s: ServiceTarget): Promise<Dockerode.Container> => {
    requests++;
    return docker.createContainer({
      ...s.createSpec,
      Labels: { ...s.createSpec.Labels, [CONFIG_HASH_LABEL]: s.configHash },
    } as Dockerode.ContainerCreateOptions);
  };
  try {
    const before = five(rig, false);
    const app = Object.values(before.apps)[0]!.release!;
    const containers = new Map<string, Dockerode.Container>();
    const t0 = performance.now();
    await Promise.all([
      ...Object.values(app.networks).map((n) => {
        requests++;
        return docker.createNetwork(n.createSpec);
      }),
      ...Object.values(app.volumes).map((v) => {
        requests++;
        return docker.createVolume(v.createSpec as Dockerode.VolumeCreateOptions);
      }),
    ]);
    await bounded(services(before), async (s) => {
      const c = await create(s);
      containers.set(s.serviceName, c);
      requests++;
      await c.start();
    });
    const upSettled = performance.now();
    const upEnd = await watch.starts(rig.prefix, t0, 5);
    const upRequests = requests;
    await new Promise((r) => setTimeout(r, 200));
    await check(rig.prefix, before);

    const after = five(rig, true);
    const changed = services(after).find((s) => s.serviceName === 'three')!;
    const t1 = performance.now();
    const old = containers.get('three')!;
    requests += 2;
    await old.stop({ t: changed.stopTimeoutSec });
    await old.remove({ v: true });
    const c = await create(changed);
    requests++;
    await c.start();
    const changeSettled = performance.now();
    const changeEnd = await watch.starts(rig.prefix, t1, 1);
    await new Promise((r) => setTimeout(r, 200));
    await check(rig.prefix, after);
    return {
      upMs: upEnd - t0,
      upSettledMs: upSettled - t0,
      upRequests,
      changeMs: changeEnd - t1,
      changeSettledMs: changeSettled - t1,
      changeRequests: requests - upRequests,
    };
  } finally {
    await cleanupByLabel(rig.prefix, docker);
    await rm(rig.lockRoot, { recursive: true, force: true });
  }
}

// ───────────────────────────── idle and memory ─────────────────────────────

async function idleAndMemory(): Promise<Record<string, number>> {
  const rig = await benchRig('bench-rec-idle');
  const gc = (globalThis as { gc?: () => void }).gc;
  try {
    rig.reconciler.start(five(rig, false));
    await rig.reconciler.whenSettled();
    await new Promise((r) => setTimeout(r, 1000)); // let the engine's echo events arrive
    const r0 = rig.engine.requestCount();
    const cpu0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const cpu = process.cpuUsage(cpu0);
    const idleRequests = rig.engine.requestCount() - r0;
    const perMinute = 60_000 / IDLE_MS;
    gc?.();
    const rssBefore = process.memoryUsage().rss;
    for (let i = 0; i < CYCLES; i++) {
      rig.reconciler.setTarget({ name: 'device', config: {}, apps: {} });
      await rig.reconciler.whenSettled();
      rig.reconciler.setTarget(five(rig, i % 2 === 0));
      await rig.reconciler.whenSettled();
    }
    gc?.();
    return {
      idleWindowMs: IDLE_MS,
      idleEngineRequestsPerMinute: idleRequests * perMinute,
      idleCpuMsPerMinute: ((cpu.user + cpu.system) / 1000) * perMinute,
      cycles: CYCLES,
      rssBeforeCyclesMiB: rssBefore / 2 ** 20,
      rssAfterCyclesMiB: process.memoryUsage().rss / 2 ** 20,
    };
  } finally {
    await rig.close();
  }
}

async function ensureImage(): Promise<void> {
  try {
    await docker.getImage(TEST_IMAGES.busybox).inspect();
  } catch {
    const stream = await docker.pull(TEST_IMAGES.busybox);
    await new Promise((resolve, reject) =>
      docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve(undefined))),
    );
  }
}

async function main(): Promise<void> {
  await docker.ping();
  await ensureImage();
  await watch.open(docker);
  const load = [loadavg()[0]!];
  // One warm-up pair, not counted: the first create on a fresh engine pays for its caches.
  await bosunRun(false);
  await floorRun();
  const bosun: Row[] = [];
  const floor: Row[] = [];
  for (let i = 0; i < RUNS; i++) {
    // Alternate, and swap who goes first every other pair, so drift and noise hit both sides alike.
    if (i % 2 === 0) {
      bosun.push(await bosunRun(TRACE && i === 0));
      floor.push(await floorRun());
    } else {
      floor.push(await floorRun());
      bosun.push(await bosunRun(false));
    }
  }
  load.push(loadavg()[0]!);
  watch.close();
  const side = (rows: Row[], key: keyof Row) => median(rows.map((r) => r[key]));
  const compare = (ms: keyof Row, settled: keyof Row, req: keyof Row) => ({
    bosunMs: side(bosun, ms),
    floorMs: side(floor, ms),
    ratio: side(bosun, ms) / side(floor, ms),
    ratioOfMedianPairs: median(bosun.map((b, i) => b[ms] / floor[i]![ms])),
    bosunSettledMs: side(bosun, settled),
    floorSettledMs: side(floor, settled),
    settledRatio: side(bosun, settled) / side(floor, settled),
    bosunEngineRequests: side(bosun, req),
    floorEngineRequests: side(floor, req),
  });
  const result = {
    engine: socket,
    runs: RUNS,
    concurrency: CONCURRENCY,
    loadAverage1m: load,
    emptyToFive: compare('upMs', 'upSettledMs', 'upRequests'),
    oneEnvChange: compare('changeMs', 'changeSettledMs', 'changeRequests'),
    ...(IDLE_MS > 0 ? await idleAndMemory() : {}),
    raw: { bosun, floor },
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/reconcile.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify({ ...result, raw: undefined }, null, 2));
}

await main();
