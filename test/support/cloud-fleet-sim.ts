/**
 * A fleet of devices restarting at the same instant (a power cut coming back), simulated on a fake clock
 * with no engine and no network: each device runs bosun's real TargetPoller against an in-memory cloud
 * that records when each poll arrives. Deterministic for a given seed.
 */
import { setMaxListeners } from 'node:events';
import type { CloudAnswer, CloudRequest } from '../../src/cloud/cloud-client.js';
import { TargetPoller } from '../../src/cloud/target-poller.js';
import { silentLogger } from '../../src/shared/logger.js';
import { flush, ManualClock } from '../unit/reconciler/support/manual-clock.js';
import { seededRandom } from './seeded-random.js';

export interface FleetRestartResult {
  devices: number;
  jitterMs: number;
  /** ms after the restart at which each device's first poll reached the cloud, sorted. */
  firstPolls: number[];
  /** The most first polls that arrived within any one second. */
  peakPerSecond: number;
  spreadMs: number;
}

export async function simulateFleetRestart(
  devices: number,
  jitterMs: number,
  seed = 1,
): Promise<FleetRestartResult> {
  const start = 1_800_000_000_000;
  const clock = new ManualClock(start);
  const random = seededRandom(seed);
  const firstPolls = new Map<number, number>();
  const controller = new AbortController();
  // Every poller listens on the one signal.
  setMaxListeners(devices + 10, controller.signal);
  const runs: Promise<void>[] = [];
  for (let i = 0; i < devices; i++) {
    const client = {
      request: (req: CloudRequest): Promise<CloudAnswer> => {
        if (!firstPolls.has(i)) firstPolls.set(i, clock.now() - start);
        return Promise.resolve({
          status: req.ifNoneMatch === undefined ? 200 : 304,
          etag: 'W/"2-x"',
          contentType: 'application/json',
          retryAfterSeconds: undefined,
          body: Buffer.from('{}'),
        });
      },
    };
    const poller = new TargetPoller({
      client,
      uuid: () => `device-${i}`,
      key: () => 'key',
      clock,
      random,
      settings: () => ({ pollIntervalMs: 900_000, instantUpdates: true }),
      jitterMs,
      // Every device already runs a stored target: the usual case after a power cut.
      hasStoredTarget: () => Promise.resolve(true),
      accept: () => Promise.resolve(),
      reapply: () => undefined,
      logger: silentLogger(),
    });
    runs.push(poller.run(controller.signal).catch(() => undefined));
  }
  await flush();
  // Step through the jitter window a second at a time until every device polled once.
  for (let t = 0; firstPolls.size < devices && t <= jitterMs + 1_000; t += 1_000)
    await clock.advance(1_000);
  controller.abort();
  await Promise.all(runs);
  const sorted = [...firstPolls.values()].sort((a, b) => a - b);
  const perSecond = new Map<number, number>();
  for (const at of sorted)
    perSecond.set(Math.floor(at / 1000), (perSecond.get(Math.floor(at / 1000)) ?? 0) + 1);
  return {
    devices,
    jitterMs,
    firstPolls: sorted,
    peakPerSecond: Math.max(...perSecond.values()),
    spreadMs: (sorted.at(-1) ?? 0) - (sorted[0] ?? 0),
  };
}
