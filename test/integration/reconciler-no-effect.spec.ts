/**
 * A step the engine accepts but whose effect the observer never sees (here: a network of the same name
 * that is not ours, so "already exists" counts as success) must not loop silently: after a few rounds
 * it fails with a clear error and is backed off like any failed step. FakeEngine (passes the engine contract), real planner, real SQLite store.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostUpdateLocks } from '../../src/device/locks.js';
import { FakeEngine } from '../../src/engine/fake-engine.js';
import type { StepOutcome } from '../../src/executor/execute-plan.js';
import type { Step } from '../../src/planner/steps.js';
import { createReconciler } from '../../src/reconciler/wiring.js';
import { silentLogger } from '../../src/shared/logger.js';
import { openStore } from '../../src/store/open-store.js';
import { ManualClock } from '../unit/reconciler/support/manual-clock.js';
import { APP, releaseTarget } from '../unit/reconciler/support/targets.js';

describe('Reconciler: a step that succeeds without effect', () => {
  it('is caught, failed with a clear error and backed off instead of looping', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bosun-test-no-effect-'));
    const clock = new ManualClock();
    const engine = new FakeEngine({ clock });
    const logger = silentLogger();
    const store = await openStore({ path: join(dir, 'db.sqlite'), logger, clock });
    const locks = new HostUpdateLocks({ root: join(dir, 'locks'), logger });
    const ended: StepOutcome[] = [];
    const { reconciler } = createReconciler({
      engine,
      store,
      locks,
      clock,
      logger,
      options: { backoff: { baseMs: 1000, capMs: 8000, jitter: 0 } },
      stepListener: {
        stepStarted: (_step: Step) => undefined,
        stepEnded: (outcome: StepOutcome) => ended.push(outcome),
      },
    });
    try {
      const target = releaseTarget('c1', [['api']]);
      for (const s of Object.values(target.apps[APP.uuid]!.release!.services))
        engine.registry.add(s.image);
      const network = Object.values(target.apps[APP.uuid]!.release!.networks)[0]!;
      // Someone else's network under our name: the observer does not count it as ours.
      await engine.createNetwork({ ...network.createSpec, Labels: {} });

      reconciler.start(target);
      const status = await reconciler.whenSettled();
      const creates = ended.filter((o) => o.step.kind === 'createNetwork');
      assert.deepEqual(
        creates.map((o) => o.status),
        ['ok', 'ok', 'ok', 'failed'],
        'three effect-less successes, then a failure',
      );
      assert.match(creates[3]!.error!.message, /had no effect the engine shows/);
      assert.notEqual(status.phase, 'converged');

      // Backed off: nothing more until the backoff ends, then one more try fails at once, later each time.
      await clock.advance(900);
      assert.equal(ended.filter((o) => o.step.kind === 'createNetwork').length, 4);
      await clock.advance(200);
      await reconciler.whenSettled();
      const after = ended.filter((o) => o.step.kind === 'createNetwork').map((o) => o.status);
      assert.deepEqual(after, ['ok', 'ok', 'ok', 'failed', 'ok', 'failed']);
    } finally {
      await reconciler.stop();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
