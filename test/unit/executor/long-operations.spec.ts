import assert from 'node:assert/strict';
import { executePlan } from '../../../src/executor/execute-plan.js';
import {
  isLongStep,
  LongOperations,
  type LongOperationOutcome,
} from '../../../src/executor/long-operations.js';
import type { Step } from '../../../src/planner/steps.js';
import { BosunError } from '../../../src/shared/errors.js';

function pull(image: string): Step {
  return {
    kind: 'pullImage',
    id: `pullImage:${image}`,
    reason: image,
    dependsOn: [],
    appUuid: 'app',
    image,
    serviceName: 'main',
  };
}

function removal(id: string, dependsOn: string[] = []): Step {
  return { kind: 'removeVolume', id, reason: id, dependsOn, appUuid: 'app', engineName: id };
}

/** An operation the test ends by hand; it honours its signal like an engine pull does. */
function controlled(): {
  run: (signal: AbortSignal) => Promise<void>;
  finish: (error?: Error) => void;
  starts: () => number;
} {
  let starts = 0;
  let settle: ((error?: Error) => void) | undefined;
  return {
    run: (signal) =>
      new Promise<void>((resolve, reject) => {
        starts++;
        settle = (error) => (error === undefined ? resolve() : reject(error));
        signal.addEventListener('abort', () => reject(new BosunError('CANCELLED', 'aborted')), {
          once: true,
        });
      }),
    finish: (error) => settle?.(error),
    starts: () => starts,
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('LongOperations', () => {
  it('only downloads run outside rounds', () => {
    assert.equal(isLongStep(pull('x')), true);
    assert.equal(isLongStep(removal('v')), false);
  });

  it('starts an operation without waiting, reports its end once, and never runs a step twice at once', async () => {
    const ops = new LongOperations();
    const ended: LongOperationOutcome[] = [];
    ops.onFinished((o) => ended.push(o));
    const op = controlled();
    ops.start(pull('x'), op.run);
    ops.start(pull('x'), op.run);
    assert.equal(op.starts(), 1, 'the same step id is not started twice while in flight');
    assert.deepEqual(
      ops.inFlight().map((s) => s.id),
      ['pullImage:x'],
    );
    op.finish();
    await tick();
    assert.equal(ops.size, 0);
    assert.deepEqual(
      ended.map((o) => [o.step.id, o.status]),
      [['pullImage:x', 'ok']],
    );
  });

  it('reports a failure with its error, and a cancellation with the canceller’s reason', async () => {
    const ops = new LongOperations();
    const ended: LongOperationOutcome[] = [];
    ops.onFinished((o) => ended.push(o));
    const failing = controlled();
    const cancelled = controlled();
    const kept = controlled();
    ops.start(pull('a'), failing.run);
    ops.start(pull('b'), cancelled.run);
    ops.start(pull('c'), kept.run);
    failing.finish(new BosunError('IMAGE_PULL_FAILED', 'manifest unknown'));
    await ops.cancelWhere(
      (s) => s.kind === 'pullImage' && s.image === 'b',
      new BosunError('CANCELLED', 'a newer target arrived'),
    );
    assert.deepEqual(
      ended.map((o) => [o.step.id, o.status, o.error?.code, o.error?.message]),
      [
        ['pullImage:a', 'failed', 'IMAGE_PULL_FAILED', 'manifest unknown'],
        ['pullImage:b', 'cancelled', 'CANCELLED', 'a newer target arrived'],
      ],
    );
    assert.deepEqual(
      ops.inFlight().map((s) => s.id),
      ['pullImage:c'],
      'operations that do not match go on',
    );
    await ops.cancelAll(new BosunError('CANCELLED', 'stopping'));
    assert.equal(ops.size, 0);
  });
});

describe('executePlan with long operations', () => {
  it('ends the round without waiting for a started step and skips its dependents', async () => {
    const ops = new LongOperations();
    const op = controlled();
    const ran: string[] = [];
    const result = await executePlan(
      [pull('x'), removal('after-pull', ['pullImage:x']), removal('other')],
      (step) => {
        if (isLongStep(step)) {
          ops.start(step, op.run);
          return Promise.resolve('started' as const);
        }
        ran.push(step.id);
        return Promise.resolve();
      },
      { concurrency: 2 },
    );
    assert.equal(result.ok, false, 'a skipped dependent is not success');
    assert.deepEqual(
      result.outcomes.map((o) => [o.step.id, o.status]),
      [
        ['pullImage:x', 'started'],
        ['after-pull', 'skipped'],
        ['other', 'ok'],
      ],
    );
    assert.match(result.outcomes[1]?.error?.message ?? '', /still running/);
    assert.deepEqual(ran, ['other']);
    assert.equal(ops.size, 1, 'the download is still running after the round');
    op.finish();
    await tick();
    assert.equal(ops.size, 0);
  });
});
