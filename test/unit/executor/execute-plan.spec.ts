import assert from 'node:assert/strict';
import { executePlan } from '../../../src/executor/execute-plan.js';
import type { Step } from '../../../src/planner/steps.js';
import { BosunError } from '../../../src/shared/errors.js';

function step(id: string, dependsOn: string[] = []): Step {
  return { kind: 'removeVolume', id, reason: id, dependsOn, appUuid: 'app', engineName: id };
}

/** A runStep that records order and lets the test finish steps one by one. */
class Controlled {
  readonly started: string[] = [];
  readonly running = new Map<string, { resolve: () => void; reject: (e: unknown) => void }>();
  maxConcurrent = 0;
  run = (s: Step, signal: AbortSignal): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      this.started.push(s.id);
      this.running.set(s.id, { resolve, reject });
      this.maxConcurrent = Math.max(this.maxConcurrent, this.running.size);
      signal.addEventListener('abort', () => reject(new BosunError('CANCELLED', 'aborted')), {
        once: true,
      });
    });
  finish(id: string, error?: unknown): void {
    const r = this.running.get(id);
    assert.ok(r, `${id} is not running`);
    this.running.delete(id);
    if (error === undefined) r.resolve();
    else r.reject(error);
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('executePlan', () => {
  it('starts a step only after all its dependencies succeeded', async () => {
    const c = new Controlled();
    const done = executePlan([step('a'), step('b'), step('c', ['a', 'b'])], c.run, {
      concurrency: 4,
    });
    await tick();
    assert.deepEqual(c.started, ['a', 'b']);
    c.finish('a');
    await tick();
    assert.deepEqual(c.started, ['a', 'b'], 'c still waits for b');
    c.finish('b');
    await tick();
    assert.deepEqual(c.started, ['a', 'b', 'c']);
    c.finish('c');
    const result = await done;
    assert.equal(result.ok, true);
    assert.deepEqual(
      result.outcomes.map((o) => [o.step.id, o.status]),
      [
        ['a', 'ok'],
        ['b', 'ok'],
        ['c', 'ok'],
      ],
    );
  });

  it('never runs more than `concurrency` steps at once, in plan order', async () => {
    const c = new Controlled();
    const steps = ['s1', 's2', 's3', 's4', 's5'].map((id) => step(id));
    const done = executePlan(steps, c.run, { concurrency: 2 });
    for (let i = 0; i < 5; i++) {
      await tick();
      const first = [...c.running.keys()][0];
      if (first !== undefined) c.finish(first);
    }
    await done;
    assert.equal(c.maxConcurrent, 2);
    assert.deepEqual(c.started, ['s1', 's2', 's3', 's4', 's5']);
  });

  it('skips what depends on a failed step, transitively, and runs the rest', async () => {
    const c = new Controlled();
    const done = executePlan(
      [step('pull'), step('create', ['pull']), step('start', ['create']), step('other')],
      c.run,
      { concurrency: 4 },
    );
    await tick();
    c.finish('pull', new BosunError('IMAGE_PULL_FAILED', 'registry said no'));
    c.finish('other');
    const result = await done;
    const byId = Object.fromEntries(result.outcomes.map((o) => [o.step.id, o]));
    assert.equal(byId['pull']?.status, 'failed');
    assert.equal(byId['pull']?.error?.code, 'IMAGE_PULL_FAILED');
    assert.equal(byId['create']?.status, 'skipped');
    assert.equal(byId['start']?.status, 'skipped');
    assert.equal(byId['other']?.status, 'ok');
    assert.deepEqual(c.started, ['pull', 'other']);
    assert.equal(result.ok, false);
  });

  it('cancels running and waiting steps on abort', async () => {
    const c = new Controlled();
    const controller = new AbortController();
    const done = executePlan([step('a'), step('b', ['a'])], c.run, {
      concurrency: 1,
      signal: controller.signal,
    });
    await tick();
    controller.abort(new BosunError('CANCELLED', 'newer target'));
    const result = await done;
    assert.deepEqual(
      result.outcomes.map((o) => [o.step.id, o.status]),
      [
        ['a', 'cancelled'],
        ['b', 'cancelled'],
      ],
    );
    assert.deepEqual(c.started, ['a'], 'b never started');
  });

  it('turns planner bugs (unknown dependency, cycle, duplicate id) into errors instead of hanging', async () => {
    const ran: string[] = [];
    const run = (s: Step): Promise<void> => {
      ran.push(s.id);
      return Promise.resolve();
    };
    const result = await executePlan(
      [step('x', ['ghost']), step('p', ['q']), step('q', ['p']), step('ok'), step('ok')],
      run,
      { concurrency: 2 },
    );
    const statuses = result.outcomes.map((o) => [o.step.id, o.status, o.error?.code]);
    assert.deepEqual(statuses, [
      ['x', 'skipped', 'INTERNAL'],
      ['p', 'skipped', 'INTERNAL'],
      ['q', 'skipped', 'APPLY_FAILED'], // skipped because p was
      ['ok', 'ok', undefined],
      ['ok', 'failed', 'INTERNAL'],
    ]);
    assert.deepEqual(ran, ['ok']);
  });

  it('resolves at once for an empty plan', async () => {
    const result = await executePlan([], () => Promise.reject(new Error('not called')), {
      concurrency: 4,
    });
    assert.deepEqual(result, { outcomes: [], ok: true });
  });
});
