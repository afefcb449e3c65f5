/**
 * Log capture throughput on the real engine: a supervised container prints N lines at once (stdout
 * and stderr interleaved), and we time how long capture takes to publish them all, then how long a
 * bosun restart takes to resume (cursor on disk) and confirm nothing is repeated.
 * Run: node --import tsx bench/logs.ts [lines]   (needs the test images: scripts/make-test-images.sh)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerEngine } from '../src/engine/docker-engine.js';
import { ContainerLogCapture } from '../src/logs/container-log-capture.js';
import { FileLogCursorStore } from '../src/logs/log-cursor-store.js';
import type { LogMessage } from '../src/logs/log-message.js';
import { systemClock } from '../src/shared/clock.js';
import { silentLogger } from '../src/shared/logger.js';
import {
  cleanupByLabel,
  DOCKER_SOCKET,
  TEST_LABEL,
  testDocker,
  uniquePrefix,
} from '../test/support/docker.js';
import { TEST_IMAGES } from '../test/support/images.js';

const LINES = Number(process.argv[2] ?? 100_000);
const prefix = uniquePrefix('bench-logs');
const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
const engine = new DockerEngine({
  socketPath: DOCKER_SOCKET,
  logger: silentLogger(),
  clock: systemClock,
});
const docker = testDocker();

async function capture(published: LogMessage[]): Promise<ContainerLogCapture> {
  const c = new ContainerLogCapture({
    source: engine,
    sink: { publish: (m) => published.push(m) },
    cursors: await FileLogCursorStore.open(join(dir, 'cursors.json'), { logger: silentLogger() }),
    clock: systemClock,
    logger: silentLogger(),
    scopeLabels: [`${TEST_LABEL}=${prefix}`],
  });
  await c.start();
  return c;
}

async function until(test: () => boolean): Promise<void> {
  while (!test()) await new Promise((r) => setTimeout(r, 20));
}

try {
  const published: LogMessage[] = [];
  const first = await capture(published);
  const half = LINES / 2;
  const container = await docker.createContainer({
    name: prefix,
    Image: TEST_IMAGES.busybox,
    Cmd: [
      'sh',
      '-c',
      // BENCH_FAST=1: `seq` writes as fast as the engine takes it, so capture is the bottleneck.
      process.env['BENCH_FAST']
        ? `seq 1 ${LINES}; sleep 3600`
        : `i=0; while [ $i -lt ${half} ]; do echo "o$i"; echo "e$i" >&2; i=$((i+1)); done; sleep 3600`,
    ],
    Labels: {
      [TEST_LABEL]: prefix,
      'io.balena.supervised': 'true',
      'io.balena.service-name': 'bench',
      'io.balena.service-id': '1',
    },
    HostConfig: { NetworkMode: 'none' },
  });
  const started = process.hrtime.bigint();
  await container.start();
  await until(() => published.length >= LINES);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  await first.stop();

  const again: LogMessage[] = [];
  const resumeStarted = process.hrtime.bigint();
  const second = await capture(again);
  await new Promise((r) => setTimeout(r, 2000)); // anything repeated would arrive in this window
  const resumeMs = Number(process.hrtime.bigint() - resumeStarted) / 1e6 - 2000;
  await second.stop();
  const result = {
    lines: LINES,
    captureMs: Math.round(ms),
    linesPerSecond: Math.round(LINES / (ms / 1000)),
    repeatedAfterRestart: again.length,
    resumeSetupMs: Math.round(resumeMs),
  };
  console.log(JSON.stringify(result));
} finally {
  await cleanupByLabel(prefix);
  await engine.close();
  await rm(dir, { recursive: true, force: true });
}
