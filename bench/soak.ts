/**
 * Soak: does the agent's memory stay flat over many target changes and a long idle?
 *
 * Method: build first (`npm run build`). A private dockerd ("soak", scripts/private-engine.sh) so other
 * work's events and containers do not count. The agent runs alone in its own process as bin/bosun starts
 * it (`node --max-semi-space-size=1 dist/bosun.mjs`, local mode, fresh data dir). One app with one
 * service (busybox from the local test registry): `--changes` times, the service's environment changes
 * (a new commit each time) and the benchmark waits until /v2/state/status says `applied` for that
 * commit, so each change recreates the container. Then `--idle-minutes` of nothing. VmRSS is sampled
 * every 10 s throughout. Printed: RSS after the first 100 changes, after all changes, at the end of the
 * idle, and the least-squares slope (MiB per hour) of the change phase after change 100 and of the
 * idle phase. Results in bench/results/soak.json.
 *
 * Usage: node --import tsx bench/soak.ts [--changes 1000] [--idle-minutes 60]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const changes = arg('changes', 1000);
const idleMinutes = arg('idle-minutes', 60);
const IMAGE = '127.0.0.1:5050/bosun-test/busybox:1';
const SAMPLE_MS = 10_000;

const socket = execFileSync('bash', ['scripts/private-engine.sh', 'start', 'soak'], {
  encoding: 'utf8',
}).trim();
const port = 49100 + Math.floor(Math.random() * 400);
const dataDir = mkdtempSync(join(tmpdir(), 'bosun-soak-'));
const agent = spawn(process.execPath, ['--max-semi-space-size=1', 'dist/bosun.mjs'], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: {
    ...process.env,
    BOSUN_DATA_DIR: dataDir,
    BOSUN_API_PORT: String(port),
    BOSUN_API_HOST: '127.0.0.1',
    BOSUN_LOCAL_MODE: 'true',
    BOSUN_LOG_LEVEL: 'warn',
    BOSUN_ENGINE_SOCKET: socket,
    BOSUN_LOCK_ROOT: join(dataDir, 'locks'),
  },
});
const base = `http://127.0.0.1:${port}`;

interface Sample {
  at: number;
  phase: 'changes' | 'idle';
  change: number;
  rssMiB: number;
}
const samples: Sample[] = [];
let phase: Sample['phase'] = 'changes';
let done = 0;
const rss = (): number =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${agent.pid}/status`, 'utf8'))?.[1]) / 1024;
const sampler = setInterval(
  () => samples.push({ at: Date.now(), phase, change: done, rssMiB: rss() }),
  SAMPLE_MS,
);

function body(change: number): unknown {
  return {
    local: {
      name: 'soak',
      config: {},
      apps: {
        '1': {
          name: 'soak',
          commit: `soak${change}`,
          releaseId: change + 1,
          services: {
            '1': {
              serviceName: 'main',
              serviceId: 1,
              imageId: 1,
              image: IMAGE,
              running: true,
              environment: { CHANGE: String(change) },
              labels: {},
              command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1 & wait $!; done'],
              network_mode: 'none',
            },
          },
          volumes: {},
          networks: {},
        },
      },
    },
  };
}

async function waitApplied(commit: string): Promise<void> {
  for (;;) {
    try {
      const status = (await (await fetch(`${base}/v2/state/status`)).json()) as {
        appState?: string;
        release?: string;
      };
      if (status.appState === 'applied' && status.release === commit) return;
    } catch {
      // not up yet
    }
    if (agent.exitCode !== null) throw new Error(`agent exited with ${agent.exitCode}`);
    await sleep(50);
  }
}

function slope(points: Sample[]): number {
  if (points.length < 2) return 0;
  const xs = points.map((p) => (p.at - points[0]!.at) / 3_600_000);
  const ys = points.map((p) => p.rssMiB);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

try {
  let rssAt100 = 0;
  for (let change = 0; change < changes; change++) {
    const res = await fetch(`${base}/v2/local/target-state`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body(change)),
    }).catch(() => undefined);
    if (res === undefined) {
      await sleep(100); // the API is not listening yet
      change--;
      continue;
    }
    if (res.status !== 200) throw new Error(`target refused: ${res.status} ${await res.text()}`);
    await waitApplied(`soak${change}`);
    done = change + 1;
    if (done === 100) rssAt100 = rss();
  }
  const rssAfterChanges = rss();
  phase = 'idle';
  await sleep(idleMinutes * 60_000);
  const rssEnd = rss();
  const result = {
    changes,
    idleMinutes,
    rssAfter100ChangesMiB: rssAt100,
    rssAfterChangesMiB: rssAfterChanges,
    rssAfterIdleMiB: rssEnd,
    growthSince100MiB: rssEnd - rssAt100,
    slopeChangesMiBPerHour: slope(samples.filter((s) => s.phase === 'changes' && s.change >= 100)),
    slopeIdleMiBPerHour: slope(samples.filter((s) => s.phase === 'idle')),
    samples,
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/soak.json', JSON.stringify(result, null, 2));
  const { samples: _omitted, ...summary } = result;
  console.log(JSON.stringify(summary, null, 2));
} finally {
  clearInterval(sampler);
  agent.kill('SIGTERM');
}
