/**
 * How quiet the agent is when there is nothing to do: CPU time and wake-ups per idle minute, measured on
 * an engine of its own (scripts/private-engine.sh), so that other work's engine events do not count.
 *
 * Method: build first (`npm run build`). Start a private dockerd ("idle"), start the agent as bin/bosun
 * does (its node flags are read from bin/bosun; --node-flags "..." replaces them) against it in local mode with a fresh data dir, and
 * optionally push a target of N services (busybox from the local test registry, pulled into the private
 * engine). Wait until it is converged and a settle period has passed, then sample, once at the start and
 * once at the end of the window:
 *  - CPU: utime+stime of the whole process (all threads) from /proc/<pid>/stat;
 *  - wake-ups: voluntary context switches from /proc/<pid>/task/<tid>/status, i.e. how many times a
 *    sleeping thread was woken (a timer firing, a socket read, a GC helper given a task), per thread
 *    (named from /proc/<pid>/task/<tid>/comm: the main loop, libuv workers, V8 DefaultWorker...);
 *  - preemptions: involuntary context switches, a running thread descheduled by the kernel. They grow
 *    with the machine's load, not with what the process does, so they are reported apart;
 *  - RSS from /proc/<pid>/status.
 * The same figures for a bare Node HTTP server started the same way in the same run are the floor.
 *
 * Usage: node --import tsx bench/idle.ts [--minutes 2] [--services 0] [--settle-seconds 20]
 *        [--node-flags "--max-semi-space-size=1 ..."]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { agentBenchOptions } from './support/agent-bench-options.js';
import { makeAgentDataDir, removeAgentDataDir } from './support/agent-data-dir.js';
import { spawnAgentOrFloor, waitForAnswer } from './support/bin-bosun.js';
import { applyLocalTarget } from './support/local-target.js';
import { startPrivateEngine } from './support/private-engine.js';
import { setTimeout as sleep } from 'node:timers/promises';

const { numbers, launch, agentFlags } = agentBenchOptions({
  minutes: 2,
  services: 0,
  'settle-seconds': 20,
});
const { minutes, services, 'settle-seconds': settleSeconds } = numbers;
const CLK_TCK = 100; // Linux USER_HZ on every architecture bosun runs on

interface ThreadCounts {
  name: string;
  voluntary: number;
  involuntary: number;
}

interface Sample {
  cpuMs: number;
  rssMiB: number;
  /** By thread id: a thread that exits between the two samples is counted up to its last sample. */
  threads: Map<string, ThreadCounts>;
}

/** "futex 0x…" for a thread asleep on a futex (its pool's condition variable), else its syscall. */
function waitChannel(pid: number, tid: string): string {
  try {
    const [nr, arg0] = readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'utf8').split(' ');
    return nr === '202' ? `(futex ${arg0})` : `(syscall ${nr})`; // 202: futex on x86-64
  } catch {
    return '(?)';
  }
}

function sample(pid: number): Sample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  const threads = new Map<string, ThreadCounts>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      threads.set(tid, {
        // Node 20 names every thread "node": the main thread is told apart by its id, the others by
        // what they sleep on (threads of one pool wait on the same futex: V8's platform workers, created
        // first, and libuv's, created on the first file system call, each share one).
        name: tid === String(pid) ? `main (${name})` : `${name} ${waitChannel(pid, tid)}`,
        voluntary: Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0),
        involuntary: Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0),
      });
    } catch {
      // the thread ended while being read
    }
  }
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssMiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
  return { cpuMs, rssMiB, threads };
}

interface Result {
  kind: string;
  cpuMs: number;
  /** Voluntary switches per minute: a thread that slept (timer, poll, condition) was woken. */
  wakeups: number;
  /** Involuntary switches per minute: a running thread was preempted (grows with machine load). */
  preemptions: number;
  rssMiB: number;
  /** Wake-ups and preemptions per minute by thread name (threads of the same name summed). */
  byThread: Record<string, { wakeups: number; preemptions: number; threads: number }>;
}

function difference(kind: string, a: Sample, b: Sample, minutes: number): Result {
  const byThread: Result['byThread'] = {};
  let wakeups = 0;
  let preemptions = 0;
  for (const [tid, end] of b.threads) {
    const start = a.threads.get(tid) ?? { name: end.name, voluntary: 0, involuntary: 0 };
    const w = (end.voluntary - start.voluntary) / minutes;
    const p = (end.involuntary - start.involuntary) / minutes;
    const row = (byThread[end.name] ??= { wakeups: 0, preemptions: 0, threads: 0 });
    row.wakeups += w;
    row.preemptions += p;
    row.threads += 1;
    wakeups += w;
    preemptions += p;
  }
  return {
    kind,
    cpuMs: (b.cpuMs - a.cpuMs) / minutes,
    wakeups,
    preemptions,
    rssMiB: b.rssMiB,
    byThread,
  };
}

async function measureOne(kind: 'agent' | 'floor', socket: string): Promise<Result> {
  const port = 49500 + Math.floor(Math.random() * 400);
  const dataDir = makeAgentDataDir('bosun-idle');
  const child = spawnAgentOrFloor(kind, {
    port,
    dataDir,
    engineSocket: socket,
    flags: agentFlags,
    launch,
  });
  try {
    await waitForAnswer(port, child);
    if (kind === 'agent' && services > 0) {
      const image = '127.0.0.1:5050/bosun-test/busybox:1';
      await applyLocalTarget(
        port,
        'idle',
        Array.from({ length: services }, (_, i) => ({ name: `s${i}`, image })),
      );
    }
    await sleep(settleSeconds * 1000);
    const pid = child.pid as number;
    const a = sample(pid);
    await sleep(minutes * 60_000);
    return difference(kind, a, sample(pid), minutes);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    removeAgentDataDir(dataDir);
  }
}

const { socket } = startPrivateEngine('idle');
// Agent and floor at the same time, so both see the same machine.
const [agent, floor] = await Promise.all([
  measureOne('agent', socket),
  measureOne('floor', socket),
]);
// The private engine is this benchmark's own: leave it empty for the next run.
const dockerEnv = { ...process.env, DOCKER_HOST: `unix://${socket}` };
const left = execFileSync('docker', ['ps', '-aq'], { env: dockerEnv, encoding: 'utf8' })
  .split('\n')
  .filter((id) => id !== '');
if (left.length > 0)
  execFileSync('docker', ['rm', '-f', ...left], { env: dockerEnv, stdio: 'ignore' });
const row = (s: Result): string =>
  `| ${s.kind} | ${s.cpuMs.toFixed(0)} ms | ${s.wakeups.toFixed(1)} | ${s.preemptions.toFixed(1)} | ${s.rssMiB.toFixed(1)} MiB |`;
console.log(
  `idle window: ${minutes} min, ${services} services, settle ${settleSeconds} s, agent flags: ${agentFlags.join(' ')}`,
);
console.log(
  '| process | CPU per idle minute | wake-ups per minute | preemptions per minute | RSS at end |',
);
console.log('|---|---|---|---|---|');
console.log(row(agent));
console.log(row(floor));
for (const r of [agent, floor]) {
  console.log(`\n${r.kind}, by thread | wake-ups/min | preemptions/min | threads`);
  for (const [name, t] of Object.entries(r.byThread).sort((x, y) => y[1].wakeups - x[1].wakeups))
    console.log(`  ${name} | ${t.wakeups.toFixed(1)} | ${t.preemptions.toFixed(1)} | ${t.threads}`);
}
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  `bench/results/idle-${services}-services.json`,
  JSON.stringify({ minutes, services, settleSeconds, agentFlags, agent, floor }, null, 2),
);
