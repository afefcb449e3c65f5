/**
 * Start-to-ready and idle memory of the agent process against bare Node, started the same way.
 * Method: build first (`npm run build`). Runs alternate: a bare Node HTTP server answering /ping (the
 * floor: what Node itself needs), then the agent as bin/bosun starts it
 * (the flags of bin/bosun, local mode, fresh data dir and port), and so on, so a
 * drift of the machine's speed hits both alike. For each process GET /ping is polled every 2 ms from
 * spawn; ready = first 200. Every process is kept running; `--idle-seconds` after the last became
 * ready, VmRSS of each is read from /proc. Medians and the per-pair ratio are printed and written to
 * bench/results/startup.json.
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
 *        [--reopen] [--extra-flags "--no-opt"] [--label NAME]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const runs = Number(option('runs') ?? 9);
const idleSeconds = Number(option('idle-seconds') ?? 60);
const nodeBinary = option('node') ?? process.execPath;
const bundle = resolve(option('bundle') ?? 'dist/bosun.mjs');
const reopen = args.includes('--reopen');
const label = option('label');
const basePort = 49000 + Math.floor(Math.random() * 1000);
/**
 * The Node flags and environment bin/bosun starts the agent with, read from the script itself so the
 * benchmark cannot drift from it; the floor gets the same, so both are "started the same way".
 */
function launcherSettings(): { flags: string[]; env: Record<string, string> } {
  const script = readFileSync(new URL('../bin/bosun', import.meta.url), 'utf8');
  const exec = /^exec node (.*?) "\$here/m.exec(script);
  if (exec === null)
    throw new Error('bin/bosun: no `exec node … "$here/…"` line to read flags from');
  const env: Record<string, string> = {};
  for (const m of script.matchAll(/^export (MALLOC_\w+)="\$\{\w+:-([^}]*)\}"$/gm))
    env[m[1]!] = m[2]!;
  return { flags: exec[1]!.split(/\s+/).filter((f) => f !== ''), env };
}
const launcher = launcherSettings();
const extraFlags = (option('extra-flags') ?? '').split(/\s+/).filter((f) => f !== '');
const V8_FLAGS = [...launcher.flags, ...extraFlags];

async function waitFor(path: string, port: number, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`process exited with ${child.exitCode} before answering ${path}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(2);
  }
}

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

function agentEnv(dataDir: string, port: number): NodeJS.ProcessEnv {
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
async function prepareDataDir(dataDir: string, port: number): Promise<void> {
  const child = spawn(nodeBinary, [...V8_FLAGS, bundle], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: agentEnv(dataDir, port),
  });
  await waitFor('/v2/version', port, child);
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  await exited;
}

async function start(kind: 'agent' | 'floor', port: number): Promise<Started> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bosun-bench-'));
  if (kind === 'agent' && reopen) await prepareDataDir(dataDir, port);
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
    env: agentEnv(dataDir, port),
  });
  await waitFor('/ping', port, child);
  const readyMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (kind === 'agent') await waitFor('/v2/version', port, child);
  return { readyMs, apiReadyMs: Number(process.hrtime.bigint() - started) / 1e6, child };
}

const agents: Started[] = [];
const floors: Started[] = [];
try {
  for (let i = 0; i < runs; i++) {
    floors.push(await start('floor', basePort + 100 + i));
    agents.push(await start('agent', basePort + i));
  }
  await sleep(idleSeconds * 1000);
  const agentRss = agents.map((a) => rssMiB(a.child.pid!));
  const floorRss = floors.map((f) => rssMiB(f.child.pid!));
  const agentAnon = agents.map((a) => rssMiB(a.child.pid!, 'RssAnon'));
  const floorAnon = floors.map((f) => rssMiB(f.child.pid!, 'RssAnon'));
  const agentFile = agents.map((a) => rssMiB(a.child.pid!, 'RssFile'));
  const floorFile = floors.map((f) => rssMiB(f.child.pid!, 'RssFile'));
  const readyRatios = agents.map((a, i) => a.readyMs / floors[i]!.readyMs);
  const version = await new Promise<string>((done) => {
    const c = spawn(nodeBinary, ['--version']);
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('exit', () => done(out.trim()));
  });
  const result = {
    node: version,
    flags: V8_FLAGS,
    env: launcher.env,
    bundle,
    reopen,
    runs,
    idleSeconds,
    readyMs: { median: median(agents.map((a) => a.readyMs)), all: agents.map((a) => a.readyMs) },
    floorReadyMs: {
      median: median(floors.map((f) => f.readyMs)),
      all: floors.map((f) => f.readyMs),
    },
    readyRatio: { median: median(readyRatios), all: readyRatios },
    apiReadyMs: {
      median: median(agents.map((a) => a.apiReadyMs)),
      all: agents.map((a) => a.apiReadyMs),
    },
    idleRssMiB: { median: median(agentRss), all: agentRss },
    floorIdleRssMiB: { median: median(floorRss), all: floorRss },
    rssAboveFloorMiB: median(agentRss) - median(floorRss),
    // Where it is: anonymous memory (JS heap, malloc) and file pages (the node binary's code touched).
    anonMiB: { agent: median(agentAnon), floor: median(floorAnon) },
    fileMiB: { agent: median(agentFile), floor: median(floorFile) },
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`bench/results/startup-${label ?? version}.json`, JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result, null, 2));
} finally {
  for (const p of [...agents, ...floors]) p.child.kill('SIGTERM');
}
