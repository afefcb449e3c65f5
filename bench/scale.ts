/**
 * Scale benchmark (issue 8) on the real Docker engine: the built agent process (dist/bosun.mjs, as
 * bin/bosun runs it; `npm run build` first) against the engine floor, for the three phases of
 * test/e2e/support/scale.ts:
 *   1. empty → one app of 60 services (each prints a line every 3 s: the agent follows 60 log streams);
 *   2. an env change of all 60 (60 recreations);
 *   3. → 60 services over 6 apps of 10 (60 removed, 6 networks and 60 containers created).
 * bosun: time from the POST of the target to the engine showing exactly the expected containers running
 * (polled every 250 ms), and the agent's RSS (VmRSS) after each phase plus its peak (VmHWM).
 * Floor: the same engine operations issued directly through dockerode with the same parallelism as the
 * reconciler's executor (4) and nothing else: no observation, no planning, no log capture, no store.
 *
 * Usage: node --import tsx bench/scale.ts      env: BENCH_RUNS (default 2)
 * Writes bench/results/scale.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type Dockerode from 'dockerode';
import { AgentProcess } from '../test/support/agent-process.js';
import {
  CHATTY_CMD,
  isConverged,
  processMemoryMiB,
  scaleBody,
  scalePhases,
  serviceName,
  type ScalePhase,
} from '../test/e2e/support/scale.js';
import {
  cleanupByLabel,
  ownedContainers,
  requireDocker,
  TEST_LABEL,
  testDocker,
  type SeenContainer,
} from '../test/support/docker.js';
import { TEST_IMAGES } from '../test/support/images.js';
import { requireRegistries } from '../test/support/registry.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 2);
const CONCURRENCY = 4;

interface PhaseResult {
  phase: string;
  ms: number;
  rssMiB?: number;
  peakMiB?: number;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function bounded<T>(items: T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

// ───────────────────────────── bosun ─────────────────────────────

async function bosunRun(run: number): Promise<PhaseResult[]> {
  const prefix = `bosun-test-bench-scale-${process.pid}-${run}`;
  const agent = await AgentProcess.create(prefix);
  const results: PhaseResult[] = [];
  try {
    await agent.start();
    let previous: SeenContainer[] = [];
    for (const [index, phase] of scalePhases(70_000 + run * 10).entries()) {
      const replaced = new Set(index === 1 ? previous.map((c) => c.id) : []);
      const ms = await timed(async () => {
        await agent.postLocalTarget(scaleBody(prefix, phase.apps));
        for (;;) {
          previous = await ownedContainers(prefix);
          if (isConverged(previous, phase, replaced)) return;
          await new Promise((r) => setTimeout(r, 250));
        }
      });
      results.push({ phase: phase.name, ms, ...processMemoryMiB(agent.child!.pid!) });
    }
    return results;
  } finally {
    await agent.remove();
    await cleanupByLabel(prefix);
  }
}

// ───────────────────────────── floor ─────────────────────────────

async function floorRun(docker: Dockerode, run: number): Promise<PhaseResult[]> {
  const prefix = `bosun-test-bench-scale-floor-${process.pid}-${run}`;
  const labels = { [TEST_LABEL]: prefix };
  const [one, change, six] = scalePhases(80_000) as [ScalePhase, ScalePhase, ScalePhase];
  const netOf = (appId: number): string => `${prefix}_${appId}`;
  const create = async (
    appId: number,
    service: string,
    version: string,
  ): Promise<Dockerode.Container> => {
    const net = netOf(appId);
    const c = await docker.createContainer({
      name: `${prefix}_${appId}_${service}_${version}`,
      Image: TEST_IMAGES.busybox,
      Cmd: CHATTY_CMD,
      Env: [`VERSION=${version}`],
      Labels: labels,
      StopTimeout: 5,
      HostConfig: { NetworkMode: net, RestartPolicy: { Name: 'always' } },
      NetworkingConfig: { EndpointsConfig: { [net]: { Aliases: [service] } } },
    });
    await c.start();
    return c;
  };
  const retire = async (c: Dockerode.Container): Promise<void> => {
    await c.stop({ t: 5 });
    await c.remove({ v: true });
  };
  const results: PhaseResult[] = [];
  try {
    const first = one.apps[0]!;
    const names = Array.from({ length: first.services }, (_, i) => serviceName(i));
    let containers: Dockerode.Container[] = [];
    results.push({
      phase: one.name,
      ms: await timed(async () => {
        await docker.createNetwork({ Name: netOf(first.appId), Labels: labels });
        await bounded(names, async (s) =>
          containers.push(await create(first.appId, s, first.version)),
        );
      }),
    });
    results.push({
      phase: change.name,
      ms: await timed(async () => {
        const next: Dockerode.Container[] = [];
        const version = change.apps[0]!.version;
        await bounded(
          containers.map((c, i) => [c, names[i]!] as const),
          async ([c, s]) => {
            await retire(c);
            next.push(await create(first.appId, s, version));
          },
        );
        containers = next;
      }),
    });
    results.push({
      phase: six.name,
      ms: await timed(async () => {
        await Promise.all(
          six.apps.map((a) => docker.createNetwork({ Name: netOf(a.appId), Labels: labels })),
        );
        const creations = six.apps.flatMap((a) =>
          Array.from(
            { length: a.services },
            (_, i) => () => create(a.appId, serviceName(i), a.version),
          ),
        );
        const removals = containers.map((c) => () => retire(c));
        await bounded([...removals, ...creations], (task) => task());
        await docker.getNetwork(netOf(first.appId)).remove();
      }),
    });
    return results;
  } finally {
    await cleanupByLabel(prefix, docker);
  }
}

async function main(): Promise<void> {
  await requireDocker();
  await requireRegistries();
  const docker = testDocker();
  const bosun: PhaseResult[][] = [];
  const floor: PhaseResult[][] = [];
  for (let run = 0; run < RUNS; run++) {
    // Alternate so that engine warm-up and noise hit both sides alike.
    bosun.push(await bosunRun(run));
    floor.push(await floorRun(docker, run));
  }
  const phases = bosun[0]!.map((p, i) => {
    const b = median(bosun.map((r) => r[i]!.ms));
    const f = median(floor.map((r) => r[i]!.ms));
    return {
      phase: p.phase,
      bosunMs: Math.round(b),
      floorMs: Math.round(f),
      ratio: Number((b / f).toFixed(2)),
      agentRssMiB: Number(median(bosun.map((r) => r[i]!.rssMiB!)).toFixed(1)),
      agentPeakRssMiB: Number(median(bosun.map((r) => r[i]!.peakMiB!)).toFixed(1)),
    };
  });
  const result = { runs: RUNS, concurrency: CONCURRENCY, phases, raw: { bosun, floor } };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/scale.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify({ ...result, raw: undefined }, null, 2));
}

await main();
