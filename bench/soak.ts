/**
 * Soak: does the agent's memory stay flat over many target changes and a long idle?
 *
 * Method: build first (`npm run build`). A private dockerd (`--engine`, default "soak",
 * scripts/private-engine.sh: its own socket, data root and bridge) so other work's events and containers
 * do not count. The agent runs alone in its own process exactly as a user starts it: `bin/bosun` (which
 * execs node with the production V8 flags), local mode, fresh data dir. One app with one service
 * (busybox from the local test registry): `--changes` times, the service's environment changes (a new
 * commit each time) and the benchmark waits until /v2/state/status says `applied` for that commit, so
 * each change recreates the container. Then `--idle-minutes` of nothing. VmRSS (with RssAnon/RssFile,
 * and the agent's CPU time) is sampled every 10 s throughout.
 *
 * Output: one JSON object per line in `--out` (default bench/results/soak.jsonl), written as it goes so
 * a partial run is still a result: a `start` line (settings), an `agent` line (its node command line and
 * MALLOC_ARENA_MAX as the process has them), a `sample` line every 10 s, a `snapshot`
 * line per heap snapshot, and a `summary` line at the end: RSS after the first 100 changes, after all
 * changes, at the end of the idle, and the least-squares slope (MiB per hour) of the change phase after
 * change 100 and of the idle phase. The summary is also printed.
 *
 * Diagnostics (off by default; they change what they measure, so never in the reported run):
 *   --snapshots 100,400   heap snapshots at these change counts (node --heapsnapshot-signal=SIGUSR2 on the
 *                         agent, written to --snapshot-dir, default next to --out)
 *   --probe               loads bench/soak-probe.mjs into the agent (NODE_OPTIONS=--import): each sample
 *                         then carries V8 heapUsed/heapTotal/external, to split RSS into heap and the rest
 *   --malloc-arena-max N  runs the agent with MALLOC_ARENA_MAX=N (glibc arenas; bin/bosun sets 2, and
 *                         128 KiB mmap/trim thresholds, unless the environment says otherwise; 16 is
 *                         glibc's own arena limit on this 2-core machine)
 *   --env K=V             more environment for the agent (repeatable), e.g. MALLOC_TRIM_THRESHOLD_=131072
 * The private engine is stopped at the end (its data root stays) unless `--keep-engine`.
 *
 * Usage: node --import tsx bench/soak.ts [--changes 1000] [--idle-minutes 60] [--out FILE]
 *          [--engine NAME] [--snapshots LIST] [--snapshot-dir DIR] [--probe] [--malloc-arena-max N] [--env K=V] [--keep-engine]
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { medians, type SoakSample } from './soak-stats.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const num = (name: string, def: number): number => Number(option(name) ?? def);
const changes = num('changes', 1000);
const idleMinutes = num('idle-minutes', 60);
const out = resolve(option('out') ?? 'bench/results/soak.jsonl');
const engineName = option('engine') ?? 'soak';
const snapshotAt = new Set(
  (option('snapshots') ?? '')
    .split(',')
    .filter((s) => s !== '')
    .map(Number),
);
const snapshotDir = resolve(option('snapshot-dir') ?? join(dirname(out), 'soak-snapshots'));
const probe = args.includes('--probe');
const arenaMax = option('malloc-arena-max');
// --env K=V (repeatable): more environment for the agent, e.g. glibc's MALLOC_TRIM_THRESHOLD_.
const extraEnv = Object.fromEntries(
  args.flatMap((a, i) =>
    a === '--env' && args[i + 1]?.includes('=') ? [args[i + 1]!.split(/=(.*)/s, 2)] : [],
  ),
);
const IMAGE = '127.0.0.1:5050/bosun-test/busybox:1';
const SAMPLE_MS = 10_000;

mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, '');
const record = (line: Record<string, unknown>): void =>
  appendFileSync(out, JSON.stringify(line) + '\n');

const socket = execFileSync('bash', ['scripts/private-engine.sh', 'start', engineName], {
  encoding: 'utf8',
}).trim();
const port = 49100 + Math.floor(Math.random() * 400);
const dataDir = mkdtempSync(join(tmpdir(), 'bosun-soak-'));
const probeFile = join(dataDir, 'probe.jsonl');
const nodeOptions: string[] = [];
if (snapshotAt.size > 0) {
  mkdirSync(snapshotDir, { recursive: true });
  nodeOptions.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshotDir}`);
}
if (probe) nodeOptions.push(`--import=${resolve('bench/soak-probe.mjs')}`);
// bin/bosun is `exec node <flags> dist/bosun.mjs`, so the pid we get is the agent's node process.
const agent = spawn('bin/bosun', [], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: {
    ...process.env,
    ...(nodeOptions.length > 0 ? { NODE_OPTIONS: nodeOptions.join(' ') } : {}),
    ...(arenaMax !== undefined ? { MALLOC_ARENA_MAX: arenaMax } : {}),
    ...extraEnv,
    ...(probe ? { BOSUN_SOAK_PROBE_FILE: probeFile } : {}),
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
record({
  kind: 'start',
  at: Date.now(),
  changes,
  idleMinutes,
  engine: engineName,
  node: process.version,
  pid: agent.pid,
  nodeOptions,
  mallocArenaMax: arenaMax ?? null,
  env: extraEnv,
  loadAverage: readFileSync('/proc/loadavg', 'utf8').trim(),
  dataDir,
});

type Sample = SoakSample;
const samples: Sample[] = [];
let phase: Sample['phase'] = 'changes';
let done = 0;
const statusKiB = (field: string): number =>
  Number(
    new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${agent.pid}/status`, 'utf8'))?.[1],
  );
const rss = (): number => statusKiB('VmRSS') / 1024;
/** The agent's CPU time so far (user + system, all threads), so settings can be compared on cost too. */
const cpuMs = (): number => {
  const fields = readFileSync(`/proc/${agent.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in USER_HZ (100)
};
const lastProbe = (): unknown => {
  if (!probe || !existsSync(probeFile)) return undefined;
  const lines = readFileSync(probeFile, 'utf8').trim().split('\n');
  return lines.length > 0 && lines.at(-1) !== '' ? JSON.parse(lines.at(-1)!) : undefined;
};
const diskKiB = (): number => {
  let total = 0;
  for (const name of readdirSync(dataDir)) {
    try {
      total += Number(
        execFileSync('du', ['-sk', join(dataDir, name)], { encoding: 'utf8' }).split('\t')[0],
      );
    } catch {
      // gone between readdir and du
    }
  }
  return total;
};
let described = false;
/** What the agent really runs with, once bin/bosun has exec'd node: its command line and malloc setting. */
function describeAgent(): void {
  const split = (file: string): string[] =>
    readFileSync(`/proc/${agent.pid}/${file}`, 'utf8')
      .split('\0')
      .filter((s) => s !== '');
  const arenas = split('environ').find((e) => e.startsWith('MALLOC_ARENA_MAX='));
  record({
    kind: 'agent',
    cmdline: split('cmdline'),
    mallocArenaMax: arenas?.split('=')[1] ?? null,
  });
  described = true;
}
const sampler = setInterval(() => {
  if (agent.exitCode !== null) return;
  if (!described) describeAgent();
  const sample: Sample = { at: Date.now(), phase, change: done, rssMiB: rss() };
  samples.push(sample);
  record({
    kind: 'sample',
    ...sample,
    rssAnonMiB: statusKiB('RssAnon') / 1024,
    rssFileMiB: statusKiB('RssFile') / 1024,
    threads: statusKiB('Threads'),
    cpuMs: cpuMs(),
    dataDirKiB: diskKiB(),
    load1: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
    probe: lastProbe(),
  });
}, SAMPLE_MS);

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

/** SIGUSR2 makes node write a snapshot synchronously on the main thread; /ping answers once it is done. */
async function snapshot(change: number): Promise<void> {
  const before = new Set(readdirSync(snapshotDir));
  const rssBefore = rss();
  agent.kill('SIGUSR2');
  for (;;) {
    await sleep(500);
    const fresh = readdirSync(snapshotDir).filter(
      (f) => !before.has(f) && f.endsWith('.heapsnapshot'),
    );
    if (
      fresh.length > 0 &&
      (await fetch(`${base}/ping`)
        .then((r) => r.ok)
        .catch(() => false))
    ) {
      const file = join(snapshotDir, `soak-change-${change}.heapsnapshot`);
      renameSync(join(snapshotDir, fresh[0]!), file);
      record({
        kind: 'snapshot',
        at: Date.now(),
        change,
        file,
        rssBeforeMiB: rssBefore,
        rssAfterMiB: rss(),
      });
      return;
    }
  }
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
    if (done % 100 === 0)
      record({ kind: 'milestone', at: Date.now(), change: done, rssMiB: rss() });
    if (snapshotAt.has(done)) await snapshot(done);
  }
  const rssAfterChanges = rss();
  phase = 'idle';
  record({
    kind: 'milestone',
    at: Date.now(),
    change: done,
    rssMiB: rssAfterChanges,
    phase: 'idle',
  });
  await sleep(idleMinutes * 60_000);
  const rssEnd = rss();
  const summary = {
    kind: 'summary',
    at: Date.now(),
    changes,
    idleMinutes,
    rssAfter100ChangesMiB: rssAt100,
    rssAfterChangesMiB: rssAfterChanges,
    rssAfterIdleMiB: rssEnd,
    growthSince100MiB: rssEnd - rssAt100,
    // The aim judged on one-minute medians: the six samples from change 100 on, the last six of idle.
    ...medians(samples),
    loadAverage: readFileSync('/proc/loadavg', 'utf8').trim(),
  };
  record(summary);
  console.log(JSON.stringify(summary, null, 2));
} finally {
  clearInterval(sampler);
  agent.kill('SIGTERM');
  await new Promise((r) => (agent.exitCode !== null ? r(undefined) : agent.once('exit', r)));
  rmSync(dataDir, { recursive: true, force: true }); // the samples file is the result
  // The service keeps running in the private engine otherwise; its data root stays for the next run.
  if (!args.includes('--keep-engine'))
    execFileSync('bash', ['scripts/private-engine.sh', 'stop', engineName], { stdio: 'inherit' });
}
