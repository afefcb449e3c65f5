/**
 * Disk preflight cost per reconcile round while an image is missing, on the real engine and the local
 * registry: the first round (reads the manifest, the index if any, the config blob, and every local
 * image's layers), then warm rounds (cached: one image list and one statfs). The floor, measured in the
 * same run, is one engine image list alone (what a warm round cannot avoid). Median of the warm runs.
 * Planner side: plan() of 100 services with and without storage facts (the preflight's own share).
 * Run: npx tsx bench/preflight.ts [rounds]
 */
import { performance } from 'node:perf_hooks';
import { DockerEngine } from '../src/engine/docker-engine.js';
import { planContext } from '../src/planner/context.js';
import { plan } from '../src/planner/plan.js';
import { StorageObserver } from '../src/reconciler/storage-observer.js';
import { systemClock } from '../src/shared/clock.js';
import { silentLogger } from '../src/shared/logger.js';
import { DOCKER_SOCKET } from '../test/support/docker.js';
import { TEST_IMAGES } from '../test/support/images.js';
import {
  app,
  emptyCurrent,
  image,
  materialise,
  release,
  service,
  target,
} from '../test/support/planner-builders.js';

const rounds = Number(process.argv[2] ?? 50);
const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const logger = silentLogger();
  const engine = new DockerEngine({ socketPath: DOCKER_SOCKET, logger, clock: systemClock });
  const images = await engine.listImages();
  const current = { ...emptyCurrent(), images: images.map((i) => ({ ...image(''), ...i })) };
  const identity = { uuid: 'bench', appId: 1 };
  const rel = { app: identity, commit: 'c1', releaseId: 1 };
  const t = target(
    app(identity, release(rel, { services: [service(rel, 'main', { image: TEST_IMAGES.large })] })),
  );
  const observer = new StorageObserver({
    engine,
    authFor: () => undefined,
    clock: systemClock,
    logger,
    reserveBytes: () => 256 * 2 ** 20,
  });
  const cold = await timed(() => observer.facts(t, current));
  const warm: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < rounds; i++) {
    floor.push(await timed(() => engine.listImages()));
    warm.push(await timed(() => observer.facts(t, current)));
  }
  await engine.close();

  // Planner share: 100 services, every image missing, storage facts that fit vs none.
  const big = { uuid: 'p', appId: 2 };
  const r1 = { app: big, commit: 'c1', releaseId: 1 };
  const r2 = { app: big, commit: 'c2', releaseId: 2 };
  const names = Array.from({ length: 100 }, (_, i) => `s${i}`);
  const running = materialise(
    target(app(big, release(r1, { services: names.map((n) => service(r1, n)) }))),
  );
  const next = target(app(big, release(r2, { services: names.map((n) => service(r2, n)) })));
  const needBytes = Object.fromEntries(names.map((n) => [service(r2, n).image, 1e6]));
  const storage = { freeBytes: 1e12, reserveBytes: 1e8, needBytes, freedBytes: {} };
  const planTimes = (withStorage: boolean): number => {
    const out: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      plan(next, running, planContext(1e6, withStorage ? { storage } : {}));
      out.push(performance.now() - t0);
    }
    return median(out.slice(50));
  };
  const planWithout = planTimes(false);
  const planWith = planTimes(true);

  const result = {
    rounds,
    coldMs: +cold.toFixed(2),
    warmMedianMs: +median(warm).toFixed(2),
    floorListImagesMedianMs: +median(floor).toFixed(2),
    warmOverFloor: +(median(warm) / median(floor)).toFixed(2),
    plan100WithoutMs: +planWithout.toFixed(3),
    plan100WithMs: +planWith.toFixed(3),
    planRatio: +(planWith / planWithout).toFixed(2),
  };
  console.log(JSON.stringify(result, null, 2));
}

await main();
