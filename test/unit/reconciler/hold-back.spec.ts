import assert from 'node:assert/strict';
import { holdBack } from '../../../src/reconciler/hold-back.js';
import type { Plan, Step } from '../../../src/planner/steps.js';

const pull: Step = {
  kind: 'pullImage',
  id: 'pull:a',
  reason: '',
  dependsOn: [],
  appUuid: 'app',
  image: 'img:a',
  serviceName: 'a',
};
const create: Step = {
  kind: 'startContainer',
  id: 'start:a',
  reason: '',
  dependsOn: ['pull:a'],
  appUuid: 'app',
  containerId: 'c',
  serviceName: 'a',
};
const other: Step = {
  kind: 'startContainer',
  id: 'start:b',
  reason: '',
  dependsOn: [],
  appUuid: 'app',
  containerId: 'd',
  serviceName: 'b',
};
const take: Step = {
  kind: 'takeLock',
  id: 'takeLock:1',
  reason: '',
  dependsOn: [],
  appUuid: 'app',
  appId: 1,
  services: ['b'],
  force: false,
};

const entry = { failures: 1, lastFailureAt: 0, until: 5000, lastError: 'registry down' };

describe('holdBack', () => {
  it('holds back a backed-off step and what depends on it, nothing else', () => {
    const plan: Plan = { steps: [pull, create, other], blockers: [] };
    const out = holdBack(plan, {
      backoffs: new Map([['pull:a', entry]]),
      lockWaits: new Map(),
      lockSignature: () => '',
    });
    assert.deepEqual(
      out.steps.map((s) => s.id),
      ['start:b'],
    );
    assert.deepEqual(out.blockers, [
      {
        kind: 'backoff',
        appUuid: 'app',
        serviceName: 'a',
        stepId: 'pull:a',
        until: 5000,
        error: 'registry down',
      },
    ]);
  });

  it('a service key holds back that service’s steps', () => {
    const out = holdBack(
      { steps: [other, pull], blockers: [] },
      { backoffs: new Map([['app/b', entry]]), lockWaits: new Map(), lockSignature: () => '' },
    );
    assert.deepEqual(
      out.steps.map((s) => s.id),
      ['pull:a'],
    );
  });

  it('a takeLock refused by a user lock waits while the same user locks exist', () => {
    const waits = new Map([['takeLock:1', '1/b']]);
    const same = holdBack(
      { steps: [take], blockers: [] },
      { backoffs: new Map(), lockWaits: waits, lockSignature: () => '1/b' },
    );
    assert.deepEqual(same.steps, []);
    assert.equal(same.blockers[0]?.kind, 'locked');
    const changed = holdBack(
      { steps: [take], blockers: [] },
      { backoffs: new Map(), lockWaits: waits, lockSignature: () => '' },
    );
    assert.deepEqual(
      changed.steps.map((s) => s.id),
      ['takeLock:1'],
    );
  });

  it('returns the plan untouched when nothing is held back', () => {
    const plan: Plan = { steps: [pull, create], blockers: [] };
    assert.equal(
      holdBack(plan, { backoffs: new Map(), lockWaits: new Map(), lockSignature: () => '' }),
      plan,
    );
  });
});
