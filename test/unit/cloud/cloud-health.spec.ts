/** The managed-device health checks (docs/protocol.md#health) on a fake clock. */
import assert from 'node:assert/strict';
import { ApplyProgressWatch, cloudHealthChecks } from '../../../src/cloud/cloud-health.js';
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

  it('polling: healthy before provisioning and while offline; unhealthy when the cloud answers but fails too long', async () => {
    const clock = new ManualClock();
    let poller:
      | {
          startedAt: number;
          lastSuccessAt: number | undefined;
          offline: boolean;
          lastError: { message: string } | undefined;
        }
      | undefined;
    const [polling] = cloudHealthChecks({
      clock,
      pollIntervalMs: () => 60_000,
      poller: () => poller,
      apply: new ApplyProgressWatch(clock),
    });
    assert.equal(polling?.run().healthy, true);
    poller = {
      startedAt: clock.now(),
      lastSuccessAt: undefined,
      offline: true,
      lastError: { message: 'ECONNREFUSED' },
    };
    await clock.advance(600_000);
    assert.equal(polling?.run().healthy, true);
    poller = { ...poller, offline: false, lastError: { message: 'the cloud answered 500' } };
    assert.match(polling?.run().reason ?? '', /no successful target state poll for 600 s.*500/);
  });
});
