/**
 * Start-to-ready and idle memory of the agent process against bare Node, started the same way.
 * Method: build first (`npm run build`). Runs alternate: a bare Node HTTP server answering /ping (the
 * floor: what Node itself needs), then the agent as bin/bosun starts it
 * (`node --max-semi-space-size=1 dist/bosun.mjs`, local mode, fresh data dir and port), and so on, so a
 * drift of the machine's speed hits both alike. For each process GET /ping is polled every 2 ms from
 * spawn; ready = first 200. Every process is kept running; `--idle-seconds` after the last became
 * ready, VmRSS of each is read from /proc. Medians and the per-pair ratio are printed and written to
 * bench/results/startup.json.
 *
 * `--variants LIST` (comma-separated; default `cold`) runs the agent in several ways, alternating with the
 * floor in every run: `cold` is a first start (fresh data dir, so Node's compiled-code cache,
 * src/config/compile-cache.ts, is empty and gets written), `warm` a later start (the cache primed by one
 * start before the runs), `off` without the cache (BOSUN_COMPILE_CACHE=off). On Node 20, which has no
 * compile cache, all three are the same start. `--agent-env K=V` (repeatable) adds to the agent's
 * environment.
 *
 * `--node PATH` runs both the floor and the agent on another Node binary; `--bundle PATH` runs another
 * copy of the bundle (one next to a node_modules built for that Node's ABI: bench/node-lines.sh).
 * Both processes get the Node flags and malloc settings that bin/bosun uses (read from it), so the floor
 * is "bare Node started the same way"; `--extra-flags "…"` adds flags to both, to measure one.
 *
 * `--reopen` starts each agent on a data dir an earlier start of the same bundle already created (started
 * until its whole API answered, then stopped with SIGTERM), as after a reboot or a watchdog restart:
 * the store is up to date, no migration pending. Without it every agent starts on a fresh data dir.
 * `--label NAME` names the result file (bench/results/startup-NAME.json; the Node version by default).
 *
 * Usage: node --import tsx bench/startup.ts [--runs 9] [--idle-seconds 60] [--node PATH] [--bundle PATH]
 *        [--variants cold,warm,off] [--agent-env K=V] [--reopen] [--extra-flags "--no-opt"] [--label NAME]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeAgentDataDir, removeAgentDataDir } from './support/agent-data-dir.js';
import { binBosunLaunch, waitForAnswer } from './support/bin-bosun.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const runs = Number(option('runs') ?? 9);
const idleSeconds = Number(option('idle-seconds') ?? 60);
const nodeBinary = option('node') ?? process.execPath;
const bundle = resolve(option('bundle') ?? 'dist/bosun.mjs');
// Below Linux's ephemeral range (32768–60999), where a client's outgoing connection can hold a port.
const basePort = 20000 + Math.floor(Math.random() * 10000);
const reopen = args.includes('--reopen');
const label = option('label');
// The floor gets bin/bosun's flags and environment too, so both are "started the same way".
const launcher = binBosunLaunch();
const extraFlags = (option('extra-flags') ?? '').split(/\s+/).filter((f) => f !== '');
const V8_FLAGS = [...launcher.flags, ...extraFlags];
const agentEnv: Record<string, string> = {};
args.forEach((a, i) => {
  if (a !== '--agent-env') return;
  const [k, ...v] = (args[i + 1] ?? '').split('=');
  agentEnv[k!] = v.join('=');
});
type Variant = 'cold' | 'warm' | 'off';
const variants = (option('variants') ?? 'cold').split(',') as Variant[];
for (const v of variants)
  if (!['cold', 'warm', 'off'].includes(v)) throw new Error(`variant ${v}?`);

const waitFor = (path: string, port: number, child: ChildProcess): Promise<void> =>
  waitForAnswer(port, child, path, 2);

function rssMiB(pid: number, field = 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]);
  return kb / 1024;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Started {
  readyMs: number;
  /**
   * Agent only: spawn → first 200 from `/v2/version`, i.e. the whole API up (the early server answers
   * /ping before the rest of the agent has loaded; see src/start.ts).
   */
  apiReadyMs: number;
  child: ChildProcess;
}

function baseEnv(dataDir: string, port: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...launcher.env,
    BOSUN_DATA_DIR: dataDir,
    BOSUN_API_PORT: String(port),
    BOSUN_API_HOST: '127.0.0.1',
    BOSUN_LOCAL_MODE: 'true',
    BOSUN_LOG_LEVEL: 'warn',
  };
}

/** Starts the agent on `dataDir` until its whole API answers, then stops it: the store exists, migrated. */
async function prepareDataDir(
  dataDir: string,
  port: number,
  env: Record<string, string>,
): Promise<void> {
  const child = spawn(nodeBinary, [...V8_FLAGS, bundle], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...baseEnv(dataDir, port), ...env },
  });
  await waitFor('/v2/version', port, child);
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  await exited;
}

async function start(
  kind: 'agent' | 'floor',
  port: number,
  extraEnv: Record<string, string> = {},
): Promise<Started> {
  const dataDir = makeAgentDataDir('bosun-bench');
  dataDirs.push(dataDir);
  const ownEnv = kind === 'agent' ? { ...agentEnv, ...extraEnv } : {};
  if (kind === 'agent' && reopen) await prepareDataDir(dataDir, port, ownEnv);
  const cmd =
    kind === 'agent'
      ? [...V8_FLAGS, bundle]
      : [
          ...V8_FLAGS,
          '-e',
          `require('http').createServer((q,s)=>s.end('OK')).listen(${port},'127.0.0.1')`,
        ];
  const started = process.hrtime.bigint();
  const child = spawn(nodeBinary, cmd, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...baseEnv(dataDir, port), ...ownEnv },
  });
  let readyMs: number;
  try {
    await waitFor('/ping', port, child);
    readyMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (kind === 'agent') await waitFor('/v2/version', port, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return { readyMs, apiReadyMs: Number(process.hrtime.bigint() - started) / 1e6, child };
}

/** The warm cache: one start writes it (the agent writes its entries once it is up), then it stops. */
async function primedCacheDir(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'bosun-bench-cache-'));
  cacheDirs.push(dir);
  const primer = await start('agent', basePort + 900, { BOSUN_COMPILE_CACHE: dir });
  await sleep(1000);
  primer.child.kill('SIGTERM');
  await new Promise((done) => primer.child.once('exit', done));
  return dir;
}

const agents = new Map<Variant, Started[]>(variants.map((v) => [v, []]));
/** Every data dir a start made, removed (with its /run spool) once the processes exited. */
const dataDirs: string[] = [];
const cacheDirs: string[] = [];
const floors: Started[] = [];
try {
  const warmDir = variants.includes('warm') ? await primedCacheDir() : undefined;
  const variantEnv = (v: Variant): Record<string, string> =>
    v === 'off'
      ? { BOSUN_COMPILE_CACHE: 'off' }
      : v === 'warm'
        ? { BOSUN_COMPILE_CACHE: warmDir! }
        : {};
  let port = basePort;
  for (let i = 0; i < runs; i++) {
    floors.push(await start('floor', port++));
    for (const v of variants) agents.get(v)!.push(await start('agent', port++, variantEnv(v)));
  }
  await sleep(idleSeconds * 1000);
  const floorRss = floors.map((f) => rssMiB(f.child.pid!));
  const version = await new Promise<string>((done) => {
    const c = spawn(nodeBinary, ['--version']);
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('exit', () => done(out.trim()));
  });
  const round = (x: number): number => Math.round(x * 10) / 10;
  const summary = (xs: number[]): { median: number; all: number[] } => ({
    median: round(median(xs)),
    all: xs.map(round),
  });
  const agentResults = Object.fromEntries(
    variants.map((v) => {
      const runsOf = agents.get(v)!;
      const rss = runsOf.map((a) => rssMiB(a.child.pid!));
      // Where it is: anonymous memory (JS heap, malloc) and file pages (the node binary's code touched).
      const anon = runsOf.map((a) => rssMiB(a.child.pid!, 'RssAnon'));
      const file = runsOf.map((a) => rssMiB(a.child.pid!, 'RssFile'));
      return [
        v,
        {
          readyMs: summary(runsOf.map((a) => a.readyMs)),
          readyRatio: summary(runsOf.map((a, i) => a.readyMs / floors[i]!.readyMs)),
          apiReadyMs: summary(runsOf.map((a) => a.apiReadyMs)),
          apiReadyRatio: summary(runsOf.map((a, i) => a.apiReadyMs / floors[i]!.readyMs)),
          idleRssMiB: summary(rss),
          rssAboveFloorMiB: round(median(rss) - median(floorRss)),
          anonMiB: summary(anon),
          fileMiB: summary(file),
        },
      ];
    }),
  );
  const result = {
    node: version,
    flags: V8_FLAGS,
    env: launcher.env,
    bundle,
    reopen,
    runs,
    idleSeconds,
    agentEnv,
    floorReadyMs: summary(floors.map((f) => f.readyMs)),
    floorIdleRssMiB: summary(floorRss),
    floorAnonMiB: summary(floors.map((f) => rssMiB(f.child.pid!, 'RssAnon'))),
    floorFileMiB: summary(floors.map((f) => rssMiB(f.child.pid!, 'RssFile'))),
    agent: agentResults,
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`bench/results/startup-${label ?? version}.json`, JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result, null, 2));
} finally {
  const children = [...[...agents.values()].flat(), ...floors].map((p) => p.child);
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
    }),
  );
  for (const dir of dataDirs) removeAgentDataDir(dir);
  for (const dir of cacheDirs) rmSync(dir, { recursive: true, force: true });
}
