/** The managed-device health checks (docs/protocol.md#health) on a fake clock. */
import assert from 'node:assert/strict';
import {
  ApplyProgressWatch,
  cloudHealthChecks,
  type PollHealthSource,
} from '../../../src/cloud/cloud-health.js';
import type { ReconcileStatus } from '../../../src/reconciler/status.js';
import { ManualClock } from '../reconciler/support/manual-clock.js';

const status = (phase: ReconcileStatus['phase'], downloading = false): ReconcileStatus =>
  ({
    phase,
    apps: downloading ? { a: { services: { s: { status: 'Downloading' } } } } : {},
  }) as unknown as ReconcileStatus;

describe('cloud health checks', () => {
  it('apply progress: unhealthy after 2 × the poll interval applying without a download, with the reason', async () => {
    const clock = new ManualClock();
    const apply = new ApplyProgressWatch(clock);
    const [, progress] = cloudHealthChecks({
      clock,
      pollIntervalMs: () => 60_000,
      poller: () => undefined,
      apply,
    });
    apply.observe(status('applying'));
    await clock.advance(100_000);
    assert.deepEqual(progress?.run(), { healthy: true });
    // A download is progress: the window starts again after it.
    apply.observe(status('applying', true));
    await clock.advance(100_000);
    apply.observe(status('applying'));
    await clock.advance(100_000);
    assert.equal(progress?.run().healthy, true);
    await clock.advance(20_000);
    const result = progress?.run();
    assert.equal(result?.healthy, false);
    assert.match(result?.reason ?? '', /no progress for 120 s/);
    apply.observe(status('converged'));
    assert.equal(progress?.run().healthy, true);
  });

  it('polling: healthy before provisioning and while offline and still trying; unhealthy when the cloud answers but fails too long', async () => {
    const clock = new ManualClock();
    let poller: PollHealthSource | undefined;
    const [polling] = cloudHealthChecks({
      clock,
      pollIntervalMs: () => 60_000,
      poller: () => poller,
      apply: new ApplyProgressWatch(clock),
    });
    assert.equal(polling?.run().healthy, true);
    const started = clock.now();
    poller = {
      startedAt: started,
      lastSuccessAt: undefined,
      offline: true,
      lastError: { message: 'ECONNREFUSED' },
      inFlightSince: undefined,
      lastAttemptAt: started,
    };
    // Offline for 10 minutes, a poll attempted every minute: not sick.
    for (let minute = 0; minute < 10; minute++) {
      await clock.advance(60_000);
      poller = { ...poller, lastAttemptAt: clock.now() };
      assert.equal(polling?.run().healthy, true);
    }
    poller = { ...poller, offline: false, lastError: { message: 'the cloud answered 500' } };
    assert.match(polling?.run().reason ?? '', /no successful target state poll for 600 s.*500/);
  });

  it('polling: a stuck loop is unhealthy even offline (no poll started, or one in flight, beyond the window)', async () => {
    const clock = new ManualClock();
    let connectivity = 'disconnected';
    const base: PollHealthSource = {
      startedAt: clock.now(),
      lastSuccessAt: clock.now(),
      offline: false,
      lastError: undefined,
      inFlightSince: undefined,
      lastAttemptAt: clock.now(),
    };
    let poller: PollHealthSource = base;
    const [polling] = cloudHealthChecks({
      clock,
      pollIntervalMs: () => 60_000,
      poller: () => poller,
      connectivity: () => connectivity,
      apply: new ApplyProgressWatch(clock),
    });
    // The connectivity check says offline: no poll success for 3 minutes is fine while polls are tried...
    await clock.advance(100_000);
    poller = { ...base, lastAttemptAt: clock.now() };
    await clock.advance(80_000);
    assert.equal(polling?.run().healthy, true);
    // ...but no poll started for more than 2 × the interval is a stuck loop.
    await clock.advance(50_000);
    const stuck = polling?.run();
    assert.equal(stuck?.healthy, false);
    assert.match(stuck?.reason ?? '', /no target state poll started for 130 s.*stopped trying/);
    // A poll hanging in flight beyond the window, connected or not.
    connectivity = 'connected';
    poller = { ...base, lastSuccessAt: clock.now(), inFlightSince: clock.now() };
    await clock.advance(121_000);
    assert.match(polling?.run().reason ?? '', /in flight for 121 s/);
  });
});
