/**
 * Latency of GET /v2/state/status while 500 slow readers hold /v2/local/logs open against a busy service
 * (issue 8). The agent is the built bundle (`npm run build` first) in local mode; one service writes
 * ~2,000 lines/s. Floor: the same status requests against the same agent and service with no readers,
 * measured in the same run just before. Reports p50/p99/max and the agent's peak RSS in each phase.
 *
 * Run: node --import tsx bench/log-readers.ts [requests]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cleanupByLabel, TEST_LABEL, testDocker, uniquePrefix } from '../test/support/docker.js';
import { TEST_IMAGES } from '../test/support/images.js';
import { BUSY_LOG_COMMAND, openSlowReaders, rssBytes } from '../test/support/slow-log-readers.js';
import { AgentProcess } from '../test/support/agent-process.js';
import { localTargetBody } from '../test/support/local-target-body.js';

const requests = Number(process.argv[2] ?? 500);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(
  url: string,
  pid: number,
): Promise<{ p50: number; p99: number; max: number; peakRssMb: number }> {
  const times: number[] = [];
  let peak = 0;
  for (let i = 0; i < requests; i++) {
    const start = process.hrtime.bigint();
    const res = await fetch(`${url}/v2/state/status`);
    await res.arrayBuffer();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (res.status !== 200) throw new Error(`status answered ${res.status}`);
    if (i % 20 === 0) peak = Math.max(peak, rssBytes(pid));
    await new Promise((r) => setTimeout(r, 10));
  }
  times.sort((a, b) => a - b);
  return {
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    max: times.at(-1)!,
    peakRssMb: peak / 1048576,
  };
}

const prefix = uniquePrefix('bench-logreaders');
const appId = 80_000 + Math.floor(Math.random() * 10_000);
const agent = await AgentProcess.create(prefix);
try {
  await agent.start();
  const body = localTargetBody(prefix, appId, 'busy1', 1, TEST_IMAGES.busybox, [
    { name: 'busy' },
  ]) as { local: { apps: Record<string, { services: Record<string, { command: string[] }> }> } };
  body.local.apps[String(appId)]!.services['1']!.command = BUSY_LOG_COMMAND;
  await agent.postLocalTarget(body);
  for (let i = 0; i < 600; i++) {
    const running = await testDocker().listContainers({
      filters: { label: [`${TEST_LABEL}=${prefix}`], status: ['running'] },
    });
    if (running.length === 1) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const pid = agent.child!.pid!;
  const floor = await measure(agent.url, pid);
  const readers = await openSlowReaders(agent.url, 500);
  const loaded = await measure(agent.url, pid);
  readers.close();
  const result = {
    requests,
    readers: { accepted: readers.accepted, refused: readers.refused },
    floor,
    loaded,
    p99Ratio: loaded.p99 / floor.p99,
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/log-readers.json', JSON.stringify(result, null, 2));
} finally {
  await agent.remove();
  await cleanupByLabel(prefix);
}
