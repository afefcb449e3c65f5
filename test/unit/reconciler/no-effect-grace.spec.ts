import assert from 'node:assert/strict';
import type { StepOutcome } from '../../../src/executor/execute-plan.js';
import type { Step } from '../../../src/planner/steps.js';
import { ExternalStopGrace } from '../../../src/reconciler/external-stops.js';
import { NoEffectTracker } from '../../../src/reconciler/no-effect.js';

const base = { reason: 'test', dependsOn: [], appUuid: 'app' };
const net: Step = {
  ...base,
  id: 'createNetwork:app_default',
  kind: 'createNetwork',
  network: {
    name: 'default',
    engineName: 'app_default',
    configHash: 'h',
    createSpec: { Name: 'app_default', Driver: 'bridge', Labels: {} },
  },
};
const lock: Step = {
  ...base,
  id: 'takeLock:1',
  kind: 'takeLock',
  appId: 1,
  services: [],
  force: false,
};
const ok = (step: Step): StepOutcome => ({ step, status: 'ok', error: undefined });

describe('NoEffectTracker', () => {
  it('fails a step planned again right after succeeding, the third time, then at once after each retry', () => {
    const tracker = new NoEffectTracker(3);
    const round = (): StepOutcome[] => {
      const failing = tracker.planned([net, lock]);
      if (failing.length === 0) tracker.ran([ok(net), ok(lock)]);
      return failing;
    };
    assert.deepEqual(
      [round(), round(), round()].map((f) => f.length),
      [0, 0, 0],
    );
    const caught = round();
    assert.deepEqual(
      caught.map((o) => [o.step.id, o.status]),
      [[net.id, 'failed']],
      'the lock step recurs by nature and is left alone',
    );
    assert.match(caught[0]!.error!.message, /succeeded but had no effect/);
    // After its backoff it runs once more without effect: caught again straight away.
    tracker.planned([]);
    assert.equal(tracker.planned([net]).length, 0);
    tracker.ran([ok(net)]);
    assert.equal(tracker.planned([net]).length, 1);
  });

  it('forgets a step once a round no longer plans it (it took effect)', () => {
    const tracker = new NoEffectTracker(2);
    tracker.planned([net]);
    tracker.ran([ok(net)]);
    assert.equal(tracker.planned([]).length, 0);
    assert.equal(tracker.planned([net]).length, 0);
    tracker.ran([ok(net)]);
    assert.equal(tracker.planned([net]).length, 0, 'one repeat only');
  });
});

describe('ExternalStopGrace', () => {
  const labels = { 'io.balena.app-uuid': 'app', 'io.balena.service-name': 'web' };
  const startId = 'startContainer:app:web:web_1_1_c';

  it("holds that container's start step for the grace period, then lets it go", () => {
    const grace = new ExternalStopGrace(10_000);
    const backoffs = new Map();
    assert.equal(grace.withGrace(backoffs, 0), backoffs, 'nothing held: the same map');
    grace.died(labels, '/web_1_1_c', 1_000);
    const held = grace.withGrace(backoffs, 5_000).get(startId);
    assert.equal(held?.until, 11_000);
    assert.match(held?.lastError ?? '', /stopped by someone else/);
    assert.equal(grace.withGrace(backoffs, 11_000).get(startId), undefined);
  });

  it('lets go of a container that was removed: its replacement is for the agent to start', () => {
    const grace = new ExternalStopGrace(10_000);
    grace.died(labels, 'web_1_1_c', 0);
    grace.destroyed(labels, 'web_1_1_c');
    assert.equal(grace.withGrace(new Map(), 1).size, 0);
  });

  it('ignores containers it cannot place, and a zero grace', () => {
    const grace = new ExternalStopGrace(10_000);
    grace.died({}, 'x', 0);
    grace.died(labels, undefined, 0);
    assert.equal(grace.withGrace(new Map(), 1).size, 0);
    const none = new ExternalStopGrace(0);
    none.died(labels, 'web_1_1_c', 0);
    assert.equal(none.withGrace(new Map(), 1).size, 0);
  });
});
