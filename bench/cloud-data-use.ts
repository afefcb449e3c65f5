/**
 * Bytes on the wire between one device and the cloud, TLS included, counted on the cloud peer's TCP
 * sockets (test/support/cloud-peer). bosun's real CloudClient, TargetPoller and StateReporter talk to the
 * peer over HTTPS; time between exchanges is simulated: the peer, like the recorded openBalena, closes idle
 * connections after 5 s, so an exchange more than 5 s after the previous one starts on a new connection
 * (closed here with dropConnections()).
 *
 * Scenarios, each with connection + TLS-session reuse (bosun's default) and without (a fresh connection
 * and a full TLS handshake per request), and the floor: the same exchanges over plain HTTP on a
 * kept-alive connection (no TLS at all).
 * - idle day at defaults: 96 polls (every 15 min) answered 304, metrics read every 5 min on an idle
 *   device (readings move inside the reference's thresholds: no report); plus, as an upper bound, the
 *   same day if every 5-min reading crossed a threshold (288 metrics reports).
 * - one release update of two services: the poll that gets the new target (200), then the reports of
 *   the update (downloading, downloaded, running) 10 s apart.
 * Usage: npx tsx bench/cloud-data-use.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { CloudClient } from '../src/cloud/cloud-client.js';
import { buildAppsReport, buildDeviceReport } from '../src/cloud/report-builder.js';
import { StateReporter } from '../src/cloud/state-reporter.js';
import { TargetPoller } from '../src/cloud/target-poller.js';
import type { ReconcileStatus, ServiceStatusWord } from '../src/reconciler/status.js';
import { silentLogger } from '../src/shared/logger.js';
import {
  startCloudPeer,
  type CloudPeer,
  type PeerRelease,
  type PeerService,
} from '../test/support/cloud-peer/index.js';
import { ManualClock } from '../test/unit/reconciler/support/manual-clock.js';

type Mode = 'reuse' | 'no-reuse' | 'floor-plain-http';
const FLEET = '1d3ca6b8e3f44bc7ad45d0b628b43554';
const UUID = 'c'.repeat(32);
const KEY = 'k'.repeat(32);

function release(commit: string, color: string): PeerRelease {
  const service = (name: string, n: number): PeerService => ({
    id: n,
    image_id: n,
    image: `registry2.balena-cloud.com/v2/${n === 1 ? 'f2894dd331bcd52848caf7794634831f' : '142f4236b8a1fdc4ecbf6372f11bad50'}@sha256:${String(n).repeat(64)}`,
    environment: name === 'main' ? { COLOR: color } : {},
    labels: {},
    composition: { image: `${name}:latest`, command: ['sleep', 'infinity'], restart: 'always' },
  });
  return { id: 1, commit, services: { main: service('main', 1), sidecar: service('sidecar', 2) } };
}

function status(commit: string, word: ServiceStatusWord, progress?: number): ReconcileStatus {
  const svc = (serviceName: string) => ({
    serviceName,
    image: undefined,
    status: word,
    containerId: undefined,
    downloadProgress: progress,
    waitingFor: undefined,
    error: undefined,
  });
  return {
    appState: word === 'Running' ? 'applied' : 'applying',
    phase: word === 'Running' ? 'converged' : 'applying',
    rounds: 1,
    lastAppliedAt: undefined,
    lastError: undefined,
    lastProgressAt: undefined,
    apps: {
      [FLEET]: {
        appUuid: FLEET,
        appId: 1,
        name: 'fleet',
        targetCommit: commit,
        currentCommit: word === 'Running' ? commit : undefined,
        updateStatus:
          word === 'Running' ? 'done' : word === 'Downloading' ? 'downloading' : 'downloaded',
        services: { main: svc('main'), sidecar: svc('sidecar') },
      },
    },
  };
}

async function device(mode: Mode) {
  const peer: CloudPeer = await startCloudPeer({
    protocol: mode === 'floor-plain-http' ? 'http' : 'https',
    fleet: { uuid: FLEET, config: { RESIN_SUPERVISOR_POLL_INTERVAL: '900000' } },
  });
  peer.model.register(UUID, 'generic-amd64', KEY);
  peer.setRelease(release('a'.repeat(32), 'red'));
  const client = new CloudClient({
    endpoint: peer.url,
    rootCaBase64: peer.balenaRootCA,
    reuseConnections: mode !== 'no-reuse',
  });
  const clock = new ManualClock(Date.now());
  let current = status('a'.repeat(32), 'Running');
  let metricsCpu = 3;
  const storedTarget = {
    value: undefined as
      undefined | { name: string; config: Record<string, string>; apps: Record<string, never> },
  };
  const poller = new TargetPoller({
    client,
    uuid: () => UUID,
    key: () => KEY,
    clock,
    random: Math.random,
    settings: () => ({ pollIntervalMs: 900_000, instantUpdates: true }),
    hasStoredTarget: () => Promise.resolve(true),
    accept: (doc) => {
      const d = (
        doc as Record<
          string,
          { name: string; config: Record<string, string>; apps: Record<string, never> }
        >
      )[UUID]!;
      storedTarget.value = d;
      return Promise.resolve();
    },
    reapply: () => undefined,
    logger: silentLogger(),
  });
  const reporter = new StateReporter({
    client,
    uuid: () => UUID,
    key: () => KEY,
    clock,
    build: () =>
      Promise.resolve(
        buildDeviceReport(
          {
            api_port: 48484,
            api_secret: 's'.repeat(32),
            os_version: 'balenaOS 6.1.0',
            os_variant: 'prod',
            supervisor_version: '0.1.0',
            ip_address: '192.168.1.42',
            mac_address: 'DC:A6:32:01:02:03',
            name: 'aged-grass',
          },
          buildAppsReport(current, storedTarget.value, new Map()),
        ),
      ),
    metrics: () =>
      Promise.resolve({
        cpu_usage: metricsCpu,
        memory_usage: 812,
        memory_total: 3906,
        storage_usage: 2100,
        storage_total: 29000,
        storage_block_device: '/dev/mmcblk0p6',
        cpu_temp: 48,
        cpu_id: '10000000abcdef01',
      }),
    settings: () => ({ hardwareMetrics: true, pollIntervalMs: 900_000 }),
    logger: silentLogger(),
  });
  // A later exchange after more than the server's 5 s keep-alive: the server has closed the connection.
  const idleGap = async (ms: number) => {
    await clock.advance(ms);
    if (ms > 5_000 && mode !== 'floor-plain-http') {
      peer.dropConnections();
      // Minutes pass in reality: let the close reach the client before its next request.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return {
    peer,
    poller,
    reporter,
    idleGap,
    setStatus: (s: ReconcileStatus) => (current = s),
    setCpu: (cpu: number) => (metricsCpu = cpu),
    close: async () => {
      client.close();
      await peer.close();
    },
  };
}

async function idleDay(mode: Mode, crossEveryReading: boolean) {
  const d = await device(mode);
  // Steady state before the day: target fetched, first full report acknowledged.
  await d.poller.pollOnce();
  await d.reporter.reportOnce();
  await d.idleGap(600_000);
  d.peer.resetBytes();
  let reports = 0;
  for (let fiveMinutes = 0; fiveMinutes < 288; fiveMinutes++) {
    if (fiveMinutes % 3 === 0) await d.poller.pollOnce();
    // Idle readings wobble inside one 20 % CPU bucket; the upper bound alternates across buckets.
    d.setCpu(crossEveryReading ? (fiveMinutes % 2 === 0 ? 5 : 45) : 3 + (fiveMinutes % 4));
    if ((await d.reporter.reportOnce()) === 'sent') reports++;
    await d.idleGap(300_000);
  }
  const bytes = d.peer.bytes();
  await d.close();
  return {
    bytes: bytes.received + bytes.sent,
    polls: 96,
    reports,
    connections: bytes.connections,
    tlsFull: bytes.tlsFull,
    tlsResumed: bytes.tlsResumed,
  };
}

async function releaseUpdate(mode: Mode) {
  const d = await device(mode);
  await d.poller.pollOnce();
  await d.reporter.reportOnce();
  await d.idleGap(600_000);
  d.peer.resetBytes();
  const commit = 'b'.repeat(32);
  d.peer.setRelease(release(commit, 'blue'));
  await d.poller.pollOnce();
  let reports = 0;
  for (const [word, progress] of [
    ['Downloading', 0],
    ['Downloading', 60],
    ['Downloaded', undefined],
    ['Running', undefined],
  ] as const) {
    d.setStatus(status(commit, word, progress));
    if ((await d.reporter.reportOnce()) === 'sent') reports++;
    await d.idleGap(10_000);
  }
  const bytes = d.peer.bytes();
  await d.close();
  return {
    bytes: bytes.received + bytes.sent,
    reports,
    connections: bytes.connections,
    tlsFull: bytes.tlsFull,
    tlsResumed: bytes.tlsResumed,
  };
}

const results: Record<string, unknown> = {};
for (const mode of ['reuse', 'no-reuse', 'floor-plain-http'] as const) {
  results[mode] = {
    idleDay: await idleDay(mode, false),
    idleDayMetricsCrossingEveryReading: await idleDay(mode, true),
    releaseUpdateTwoServices: await releaseUpdate(mode),
  };
}
console.log(JSON.stringify(results, null, 2));
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/cloud-data-use.json', JSON.stringify(results, null, 2));
