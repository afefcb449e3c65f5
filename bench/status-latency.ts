/**
 * Status latency on an idle device with five services (issue 16: `/v2/state/status` and
 * `/v2/applications/state` at p99 under 5 ms for 500 sequential requests).
 *
 * Method: build first (`npm run build`). A private dockerd ("latency", scripts/private-engine.sh), so
 * other work's engine events do not count. The built agent runs alone in its own process as bin/bosun
 * starts it (its node flags are read from bin/bosun; `--node-flags "..."` replaces them), local mode,
 * fresh data dir. Five services (busybox from the local test registry) are pushed; once
 * /v2/state/status says `applied` and `--settle-seconds` have passed, `--requests` rounds are made, each
 * one request to `/ping` (the floor: an HTTP round trip through the same server with no work), one to
 * `/v2/state/status` and one to `/v2/applications/state`, one after the other on one kept-alive
 * connection, as a client polling the device would. Interleaving the three makes a burst of load from
 * other work on this shared machine fall on all of them alike. A bare Node HTTP server started the same
 * way answers `/ping` in the same run as a second floor (what Node alone costs).
 * Printed: p50/p90/p99/max per endpoint in ms, and the load average. Results in
 * bench/results/status-latency.json.
 *
 * Usage: node --import tsx bench/status-latency.ts [--requests 500] [--services 5] [--settle-seconds 10]
 *        [--node-flags "--max-semi-space-size=1 ..."]
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { agentBenchOptions } from './support/agent-bench-options.js';
import { makeAgentDataDir, removeAgentDataDir } from './support/agent-data-dir.js';
import { spawnAgentOrFloor, waitForAnswer } from './support/bin-bosun.js';
import { applyLocalTarget } from './support/local-target.js';
import { startPrivateEngine } from './support/private-engine.js';

const { numbers, launch, agentFlags } = agentBenchOptions({
  requests: 500,
  services: 5,
  'settle-seconds': 10,
});
const { requests, services, 'settle-seconds': settleSeconds } = numbers;
const IMAGE = '127.0.0.1:5050/bosun-test/busybox:1';

// One kept-alive connection per target, as a polling client keeps.
const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });

/** One GET; resolves with the milliseconds from sending to the last byte of the body. */
function timedGet(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const req = request({ host: '127.0.0.1', port, path, agent: keepAlive }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${path}: ${res.statusCode}`));
        else resolve(Number(process.hrtime.bigint() - start) / 1e6);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function getJson(port: number, path: string): Promise<unknown> {
  return (await fetch(`http://127.0.0.1:${port}${path}`)).json();
}

function start(
  kind: 'agent' | 'floor',
  socket: string,
): { child: ChildProcess; port: number; dataDir: string } {
  const port = 49900 + Math.floor(Math.random() * 90);
  const dataDir = makeAgentDataDir('bosun-latency');
  const child = spawnAgentOrFloor(kind, {
    port,
    dataDir,
    engineSocket: socket,
    flags: agentFlags,
    launch,
  });
  return { child, port, dataDir };
}

function percentiles(ms: number[]): { p50: number; p90: number; p99: number; max: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1] as number };
}

const { socket } = startPrivateEngine('latency');
const agent = start('agent', socket);
const floor = start('floor', socket);
try {
  await Promise.all([
    waitForAnswer(agent.port, agent.child),
    waitForAnswer(floor.port, floor.child),
  ]);
  await applyLocalTarget(
    agent.port,
    'latency',
    Array.from({ length: services }, (_, i) => ({
      name: `s${i}`,
      image: IMAGE,
      environment: { N: String(i) },
    })),
  );
  await sleep(settleSeconds * 1000);
  const state = (await getJson(agent.port, '/v2/applications/state')) as Record<
    string,
    { services: Record<string, { status: string }> }
  >;
  const running = Object.values(state).flatMap((a) =>
    Object.values(a.services).filter((s) => s.status === 'Running'),
  ).length;
  if (running !== services) throw new Error(`${running} of ${services} services running`);
  const paths = ['/ping', '/v2/state/status', '/v2/applications/state'] as const;
  const times: Record<string, number[]> = { 'bare Node /ping': [] };
  for (const p of paths) times[p] = [];
  // A few unrecorded rounds open the connections and let V8 compile the handlers.
  for (let i = 0; i < 20; i++) for (const p of paths) await timedGet(agent.port, p);
  const loadBefore = loadavg()[0] as number;
  for (let i = 0; i < requests; i++) {
    for (const p of paths) times[p]?.push(await timedGet(agent.port, p));
    times['bare Node /ping']?.push(await timedGet(floor.port, '/ping'));
  }
  const loadAfter = loadavg()[0] as number;
  const rss = Number(
    /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${agent.child.pid}/status`, 'utf8'))?.[1],
  );
  const rows = Object.entries(times).map(([path, ms]) => ({ path, ...percentiles(ms) }));
  console.log(
    `${requests} sequential requests per endpoint, ${services} services, agent flags: ${agentFlags.join(' ')}; load average ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)}; agent RSS ${(rss / 1024).toFixed(1)} MiB`,
  );
  console.log('| endpoint | p50 | p90 | p99 | max |');
  console.log('|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.path} | ${r.p50.toFixed(2)} | ${r.p90.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(2)} |`,
    );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/status-latency.json',
    JSON.stringify({ requests, services, agentFlags, loadBefore, loadAfter, rows }, null, 2),
  );
} finally {
  keepAlive.destroy();
  for (const { child: c, dataDir } of [agent, floor]) {
    c.kill('SIGTERM');
    if (c.exitCode === null) await new Promise((r) => c.once('exit', r));
    removeAgentDataDir(dataDir);
  }
  // The private engine is this benchmark's own: leave it empty for the next run.
  const env = { ...process.env, DOCKER_HOST: `unix://${socket}` };
  const ids = execFileSync('docker', ['ps', '-aq'], { env, encoding: 'utf8' }).split('\n');
  const left = ids.filter((id) => id !== '');
  if (left.length > 0) execFileSync('docker', ['rm', '-f', ...left], { env, stdio: 'ignore' });
}
