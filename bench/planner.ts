/**
 * Planner benchmark: plan() time for 1, 10, 100 and 1000 services spread over 1, 5 and 20 apps, for a
 * converged device (the common case: nothing to do) and for a full release update with every new image
 * present (the largest plans: lock, stop, remove, create, start per service). Median of many runs after
 * warm-up. Prints a table, then JSON, then the growth from 100 to 1000 services against n log n.
 * Run: npx tsx bench/planner.ts
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { TargetState } from '../src/domain/model.js';
import { planContext } from '../src/planner/context.js';
import { plan } from '../src/planner/plan.js';
import {
  app,
  image,
  materialise,
  release,
  service,
  target,
  volume,
} from '../test/support/planner-builders.js';

const SIZES = [1, 10, 100, 1000];
const APP_COUNTS = [1, 5, 20];
const NOW = 1_000_000;

function build(services: number, apps: number, commit: string, releaseId: number): TargetState {
  const appTargets = [];
  for (let a = 0; a < apps; a++) {
    const identity = { uuid: `app${a}`, appId: a + 1 };
    const rel = { app: identity, commit, releaseId };
    const count = Math.floor(services / apps) + (a < services % apps ? 1 : 0);
    if (count === 0) continue;
    const svcs = [];
    for (let i = 0; i < count; i++) {
      const name = `svc${i}`;
      const dependsOn = i > 0 && i % 4 === 0 ? { [`svc${i - 1}`]: 'service_started' as const } : {};
      svcs.push(
        service(rel, name, {
          image: `registry.test/${identity.uuid}-${name}:${commit}`,
          imageId: a * 10000 + i,
          volumes: i % 3 === 0 ? ['data'] : [],
          dependsOn,
        }),
      );
    }
    appTargets.push(
      app(identity, release(rel, { services: svcs, volumes: [volume(identity, 'data')] })),
    );
  }
  return target(...appTargets);
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/**
 * Samples are taken in several passes over all configurations (interleaved), so that a burst of load
 * from other processes spreads over every configuration instead of skewing one. Each sample is a batch
 * of calls (about 2 ms of work) timed both by wall clock and by this process's CPU time: on a shared,
 * overloaded machine long runs get preempted and their wall time inflates, CPU time does not, so the
 * growth check uses CPU time.
 */
const PASSES = 8;
const PASS_BUDGET_MS = 60;
const BATCH_TARGET_MS = 2;

interface Samples {
  wall: number[];
  cpu: number[];
  batch: number;
}

function calibrate(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  const one = Math.max(performance.now() - t0, 0.001);
  return Math.max(1, Math.round(BATCH_TARGET_MS / one));
}

function samplePass(fn: () => unknown, into: Samples): void {
  const end = performance.now() + PASS_BUDGET_MS;
  let n = 0;
  while (n < 3 || (performance.now() < end && n < 100)) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < into.batch; i++) fn();
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    into.wall.push(wall / into.batch);
    into.cpu.push((cpu.user + cpu.system) / 1000 / into.batch);
    n++;
  }
}

interface Row {
  services: number;
  apps: number;
  scenario: 'converged' | 'update';
  steps: number;
  /** Median wall-clock ms per plan() call. */
  medianMs: number;
  /** Median CPU ms per plan() call (robust to preemption on a loaded machine). */
  medianCpuMs: number;
  runs: number;
}

interface Case {
  row: Omit<Row, 'medianMs' | 'medianCpuMs' | 'runs'>;
  fn: () => unknown;
  samples: Samples;
}

const cases: Case[] = [];
for (const apps of APP_COUNTS) {
  for (const services of SIZES) {
    if (apps > services) continue;
    const v1 = build(services, apps, 'c1', 1);
    const v2 = build(services, apps, 'c2', 2);
    const current = materialise(v1);
    const newImages = Object.values(v2.apps).flatMap((a) =>
      Object.values(a.release?.services ?? {}).map((s) => image(s.image)),
    );
    const updating = { ...current, images: [...current.images, ...newImages] };
    const ctx = planContext(NOW);
    for (const [scenario, t, c] of [
      ['converged', v1, current],
      ['update', v2, updating],
    ] as const) {
      const fn = () => plan(t, c, ctx);
      for (let i = 0; i < 10; i++) fn(); // warm-up (JIT)
      const batch = calibrate(fn);
      cases.push({
        row: { services, apps, scenario, steps: plan(t, c, ctx).steps.length },
        fn,
        samples: { wall: [], cpu: [], batch },
      });
    }
  }
}
for (let pass = 0; pass < PASSES; pass++) for (const c of cases) samplePass(c.fn, c.samples);
const rows: Row[] = cases.map((c) => ({
  ...c.row,
  medianMs: median(c.samples.wall),
  medianCpuMs: median(c.samples.cpu),
  runs: c.samples.wall.length * c.samples.batch,
}));

console.log('services  apps  scenario   steps   median ms   cpu ms     calls');
for (const r of rows) {
  console.log(
    `${String(r.services).padStart(8)}  ${String(r.apps).padStart(4)}  ${r.scenario.padEnd(9)}  ${String(r.steps).padStart(5)}  ${r.medianMs.toFixed(3).padStart(10)}  ${r.medianCpuMs.toFixed(3).padStart(8)}  ${String(r.runs).padStart(7)}`,
  );
}
// Shared CI boxes are noisy: the load average tells how much to trust the numbers.
console.log(JSON.stringify({ loadavg: loadavg(), rows }, null, 2));

const nlogn = (n: number): number => n * Math.log2(n);
for (const scenario of ['converged', 'update'] as const) {
  for (const apps of APP_COUNTS) {
    const at = (n: number) =>
      rows.find((r) => r.services === n && r.apps === apps && r.scenario === scenario)?.medianCpuMs;
    const t100 = at(100);
    const t1000 = at(1000);
    if (t100 === undefined || t1000 === undefined) continue;
    const growth = t1000 / t100;
    const bound = nlogn(1000) / nlogn(100);
    console.log(
      `growth ${scenario} apps=${apps}: t(1000)/t(100) = ${growth.toFixed(1)} (n log n predicts ${bound.toFixed(1)}): ${growth <= bound * 1.5 ? 'ok' : 'WORSE than n log n'}`,
    );
  }
}
