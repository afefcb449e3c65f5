/**
 * Logs end to end: container → capture → spool → cloud log stream → the cloud peer, through the running
 * agent (the built bundle with bin/bosun's flags), with the agent's CPU and RSS, and bytes written to disk.
 *
 * Method: the one cloud peer (test/support/cloud-peer, log stream mounted) over HTTPS with its own CA
 * (BENCH_PROTOCOL=http for plain HTTP), the device registered there and its config.json provisioned; the
 * agent in cloud mode with its spool on disk (so /proc/<pid>/io write_bytes counts the spool's writes).
 * The peer's release has one service that waits for /tmp/go, prints N numbered ~80-byte lines and keeps
 * running. The agent starts, creates that container from the target, and is stopped (SIGTERM); then the
 * container prints everything, and the agent is started again: it finds the container with no cursor
 * and takes the whole output in as fast as it can. We time from the first to the last line the peer
 * stores, sample the agent's CPU (utime+stime from /proc/<pid>/stat) and RSS (VmRSS every 100 ms), and
 * read the spool's commit count from the agent's `logs.spool-closed` log line after SIGTERM.
 * Floor, same run: the same container's output read straight from the engine's logs API (what capture
 * itself reads), i.e. the fastest any agent could take the lines in; the ratio is end-to-end / floor.
 * The load average at start and end is recorded (the machine may be shared). BENCH_PERSISTENT=1 runs
 * the spool as persistent logging does (WAL journal); by default as on tmpfs (rollback journal), both
 * on disk here so that the bytes count.
 * Usage: npm run build && node --import tsx bench/logs-stream.ts [lines]   (default 300000)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLogCloudPeer } from '../test/support/cloud-peer/with-log-stream.js';
import { cleanupByLabel, TEST_LABEL, testDocker, uniquePrefix } from '../test/support/docker.js';
import { TEST_IMAGES } from '../test/support/images.js';
import { freePort } from '../test/support/agent-process.js';

const LINES = Number(process.argv[2] ?? 300_000);
const KEYS = { uuid: 'bench0logs000000000000000000000a', deviceApiKey: 'b'.repeat(32) };
const prefix = uniquePrefix('bench-stream');
const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
const docker = testDocker();
const CLK_TCK = 100;

const cmd = [
  'sh',
  '-c',
  `while [ ! -e /tmp/go ]; do usleep 20000; done; awk 'BEGIN { for (i = 1; i <= ${LINES}; i++) printf "n %d level=info msg=\\"request served\\" path=/api/v1/items status=200 ms=12\\n", i }'; exec sleep 3600`,
];

async function procStat(pid: number): Promise<{
  onCpuNs: number;
  runQueueNs: number;
  cpuSeconds: number;
  rss: number;
  writeBytes: number;
}> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const io = await readFile(`/proc/${pid}/io`, 'utf8');
  // Nanoseconds on a CPU and waiting in the run queue (runnable but not running: a busy machine).
  const [onCpu, runQueue] = (await readFile(`/proc/${pid}/schedstat`, 'utf8'))
    .split(' ')
    .map(Number);
  return {
    onCpuNs: onCpu ?? 0,
    runQueueNs: runQueue ?? 0,
    cpuSeconds: (Number(stat[11]) + Number(stat[12])) / CLK_TCK,
    rss: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) * 1024,
    writeBytes: Number(/write_bytes:\s+(\d+)/.exec(io)?.[1]),
  };
}

const owner = { [TEST_LABEL]: prefix };
const cloud = await startLogCloudPeer({
  protocol: process.env['BENCH_PROTOCOL'] === 'http' ? 'http' : 'https',
  fleet: { id: 2, config: { RESIN_SUPERVISOR_POLL_INTERVAL: '600000' } },
});
const peer = { state: cloud.logs };
cloud.peer.setRelease({
  id: 1,
  commit: 'bench000bench000bench000bench001',
  services: {
    bench: {
      id: 2,
      image_id: 21,
      image: TEST_IMAGES.busybox,
      environment: {},
      labels: owner,
      composition: { command: cmd, stop_grace_period: '1s' },
    },
  },
  networks: { default: { labels: owner } },
});
const device = cloud.registerDevice(KEYS.uuid, KEYS.deviceApiKey);
const dataDir = join(dir, 'data');
await mkdir(dataDir, { recursive: true });
await writeFile(
  join(dataDir, 'config.json'),
  JSON.stringify({
    apiEndpoint: cloud.url,
    uuid: KEYS.uuid,
    deviceApiKey: KEYS.deviceApiKey,
    deviceId: device.id,
    registered_at: device.registeredAt,
    deviceType: 'generic-amd64',
    balenaRootCA: cloud.peer.balenaRootCA,
    // BENCH_PERSISTENT=1: the spool as persistent logging keeps it (WAL); otherwise as on tmpfs.
    ...(process.env['BENCH_PERSISTENT'] === '1' ? { persistentLogging: true } : {}),
  }),
);
const port = await freePort();

function startAgent(): { child: ChildProcess; output: () => string } {
  const child = spawn(
    process.execPath,
    [
      '--max-semi-space-size=1',
      '--optimize-for-size',
      // BENCH_CPU_PROF=<dir>: a V8 CPU profile of the agent (where its time goes per line).
      ...(process.env['BENCH_CPU_PROF']
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF']}`]
        : []),
      'dist/bosun.mjs',
    ],
    {
      env: {
        ...process.env,
        BOSUN_DATA_DIR: dataDir,
        BOSUN_LOCAL_MODE: 'false',
        BOSUN_API_HOST: '127.0.0.1',
        BOSUN_API_PORT: String(port),
        BOSUN_LOCK_ROOT: join(dir, 'locks'),
        BOSUN_SCOPE_LABELS: `${TEST_LABEL}=${prefix}`,
        BOSUN_CLOUD_POLL_JITTER_MS: '100',
        BOSUN_LOG_LEVEL: 'info',
        BOSUN_LOG_SPOOL_DIR: join(dir, 'spool'), // on disk: write_bytes counts it
        BOSUN_LOG_SPOOL_MAX_BYTES: String(256 * 1024 * 1024),
        BOSUN_LOG_SPOOL_MAX_SERVICE_BYTES: String(256 * 1024 * 1024),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out = (out + chunk.toString()).slice(-20_000)));
  return { child, output: () => out };
}

async function ping(): Promise<void> {
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/ping`)).ok) return;
    } catch {
      // starting
    }
    await sleep(50);
  }
}

async function stopAgent(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

const loadAtStart = loadavg().map((l) => Number(l.toFixed(2)));
try {
  // First start: the agent provisions nothing (config.json is provisioned), fetches the release and
  // creates the producer, which waits. Then the agent stops, and the producer prints everything, so
  // what we time next is the agent, not busybox.
  const first = startAgent();
  await ping();
  let containerId: string | undefined;
  while (containerId === undefined) {
    const list = await docker.listContainers({ filters: { label: [`${TEST_LABEL}=${prefix}`] } });
    containerId = list.find((c) => c.State === 'running')?.Id;
    if (containerId === undefined) await sleep(200);
  }
  await stopAgent(first.child);
  const container = docker.getContainer(containerId);
  const exec = await container.exec({ Cmd: ['touch', '/tmp/go'] });
  await exec.start({ Detach: true });
  const producerStart = Date.now();
  for (;;) {
    const tail = await container.logs({ stdout: true, tail: 1 });
    if (tail.toString('latin1').includes(`n ${LINES} `)) break;
    await sleep(100);
  }
  const producerSeconds = (Date.now() - producerStart) / 1000;
  // Floor: one full read of the same output from the engine's logs API (what capture reads).
  const readStart = Date.now();
  await container.logs({ stdout: true, stderr: true, follow: false, timestamps: true });
  const floorSeconds = (Date.now() - readStart) / 1000;

  const { child, output } = startAgent();
  await ping();
  const pid = child.pid!;
  const idle = await procStat(pid);
  let peak = idle.rss;
  const sampler = setInterval(() => {
    procStat(pid).then(
      (s) => (peak = Math.max(peak, s.rss)),
      () => undefined,
    );
  }, 100);
  // Counted incrementally: rescanning the peer's array every few ms would slow the peer itself.
  let seen = 0;
  let scanned = 0;
  const count = (): number => {
    const lines = peer.state.lines;
    for (; scanned < lines.length; scanned++) if (lines[scanned]!.serviceId === 2) seen++;
    return seen;
  };
  while (count() === 0) await sleep(5);
  const firstAt = Date.now();
  while (count() < LINES) await sleep(5);
  const lastAt = Date.now();
  while (peer.state.requests.some((r) => r.fate === 'open')) await sleep(5);
  clearInterval(sampler);
  const done = await procStat(pid);
  await stopAgent(child);
  const closed = output()
    .split('\n')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    })
    .find((l) => l['msg'] === 'logs.spool-closed' || l['event'] === 'logs.spool-closed');
  const seconds = (lastAt - firstAt) / 1000;
  const commits = Number(closed?.['commits'] ?? NaN);
  const result = {
    lines: LINES,
    protocol: cloud.url.split(':')[0],
    spoolJournal:
      process.env['BENCH_PERSISTENT'] === '1' ? 'WAL (persistent)' : 'rollback (tmpfs mode)',
    loadAverage1m: { start: loadAtStart[0], end: Number(loadavg()[0]!.toFixed(2)) },
    endToEndLinesPerSecond: Math.round(LINES / seconds),
    floorEngineReadLinesPerSecond: Math.round(LINES / floorSeconds),
    producerLinesPerSecond: Math.round(LINES / producerSeconds),
    ratioToFloor: Number((LINES / seconds / (LINES / floorSeconds)).toFixed(2)),
    agentCpuPercent: Math.round(((done.cpuSeconds - idle.cpuSeconds) / seconds) * 100),
    // Of the main thread and workers together: time runnable but waiting for a CPU, as % of the run.
    agentRunQueueWaitPercent: Math.round(
      ((done.runQueueNs - idle.runQueueNs) / 1e9 / seconds) * 100,
    ),
    agentCpuMicrosPerLine: Number((((done.cpuSeconds - idle.cpuSeconds) * 1e6) / LINES).toFixed(1)),
    idleRssMiB: Number((idle.rss / 2 ** 20).toFixed(1)),
    peakRssMiB: Number((peak / 2 ** 20).toFixed(1)),
    diskBytesPerLine: Number(((done.writeBytes - idle.writeBytes) / LINES).toFixed(1)),
    spoolCommits: commits,
    commitsPerSecond: Number((commits / seconds).toFixed(1)),
    wireBytesPerLine: Number((peer.state.wireBytes / LINES).toFixed(1)),
    batches: peer.state.requests.length,
  };
  console.log(JSON.stringify(result, null, 2));
  await mkdir('bench/results', { recursive: true });
  await writeFile('bench/results/logs-stream.json', JSON.stringify(result, null, 2) + '\n');
} finally {
  await cloud.close();
  await cleanupByLabel(prefix);
  await rm(dir, { recursive: true, force: true });
}
