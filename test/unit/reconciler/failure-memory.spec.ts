import assert from 'node:assert/strict';
import { serviceKey } from '../../../src/domain/keys.js';
import type { CurrentState } from '../../../src/domain/model.js';
import type { Step } from '../../../src/planner/index.js';
import { FailureMemory } from '../../../src/reconciler/failure-memory.js';
import { BosunError } from '../../../src/shared/errors.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { ManualClock } from './support/manual-clock.js';

const empty: CurrentState = {
  containers: [],
  images: [],
  networks: [],
  volumes: [],
  locks: [],
  downloads: [],
  handoverComplete: [],
  commits: {},
};

const pull: Step = {
  kind: 'pullImage',
  id: 'pullImage:img',
  reason: '',
  dependsOn: [],
  appUuid: 'app',
  image: 'img',
  serviceName: 'main',
};
const create: Step = {
  kind: 'removeContainer',
  id: 'removeContainer:app:main:c1',
  reason: '',
  dependsOn: [],
  appUuid: 'app',
  containerId: 'c1',
  serviceName: 'main',
};
const take: Step = {
  kind: 'takeLock',
  id: 'takeLock:7',
  reason: '',
  dependsOn: [],
  appUuid: 'app',
  appId: 7,
  services: ['main'],
  force: false,
};

function memory(clock = new ManualClock()): { clock: ManualClock; failures: FailureMemory } {
  const failures = new FailureMemory(
    clock,
    {
      backoff: { baseMs: 1_000, capMs: 60_000, jitter: 0 },
      crashWindowMs: 10_000,
      externalStopGraceMs: 0,
      random: () => 0,
    },
    silentLogger(),
  );
  return { clock, failures };
}

describe('FailureMemory', () => {
  it('backs a retryable failure off from the base delay, a non-retryable one at the cap', () => {
    const { clock, failures } = memory();
    const now = clock.now();
    failures.record(
      { step: pull, status: 'failed', error: new BosunError('IMAGE_PULL_FAILED', 'timeout') },
      empty,
    );
    failures.record(
      { step: create, status: 'failed', error: new BosunError('CONFLICT', 'name in use') },
      empty,
    );
    const inputs = failures.planInputs();
    assert.deepEqual(
      inputs.backoffs.map((b) => [b.key, b.until - now]),
      [
        ['pullImage:img', 1_000],
        ['removeContainer:app:main:c1', 60_000],
      ],
    );
    assert.deepEqual(inputs.failedPulls, [{ image: 'img', until: now + 1_000, error: 'timeout' }]);
    assert.equal(failures.errors.get(serviceKey('app', 'main')), 'name in use');
  });

  it('cancellations and an unreachable engine are not failures of the step', () => {
    const { failures } = memory();
    for (const code of ['CANCELLED', 'ENGINE_UNREACHABLE'] as const)
      failures.record({ step: pull, status: 'failed', error: new BosunError(code, code) }, empty);
    assert.deepEqual(failures.planInputs().backoffs, []);
  });

  it('a refused takeLock is a lock wait on the user locks as they were, not a backoff', () => {
    const { failures } = memory();
    const locked = {
      ...empty,
      locks: [{ appId: 7, serviceName: 'main', heldBy: 'user' as const }],
    };
    failures.record(
      { step: take, status: 'failed', error: new BosunError('UPDATES_LOCKED', 'locked') },
      locked,
    );
    assert.deepEqual(failures.planInputs().lockWaits, [{ appId: 7, userLocks: '7/main' }]);
    assert.deepEqual(failures.planInputs().backoffs, []);
    failures.forgetLockWaits();
    assert.deepEqual(failures.planInputs().lockWaits, []);
  });

  it('a network removed on the engine releases network creations that waited for an address range, and only those', () => {
    const { failures } = memory();
    const network = (app: string): Step => ({
      kind: 'createNetwork',
      id: `createNetwork:${app}_default`,
      reason: '',
      dependsOn: [],
      appUuid: app,
      network: {
        name: 'default',
        engineName: `${app}_default`,
        configHash: '',
        createSpec: { Name: `${app}_default`, Driver: 'bridge', Labels: {} },
      },
    });
    assert.equal(failures.networkRemoved(), false, 'nothing waits: no round for it');
    failures.record(
      {
        step: network('a'),
        status: 'failed',
        error: new BosunError('ENGINE_NO_ADDRESS_POOL', 'no available address pool'),
      },
      empty,
    );
    failures.record(
      { step: network('b'), status: 'failed', error: new BosunError('ENGINE_ERROR', 'driver') },
      empty,
    );
    failures.record(
      { step: pull, status: 'failed', error: new BosunError('IMAGE_PULL_FAILED', 'x') },
      empty,
    );
    assert.equal(failures.networkRemoved(), true);
    assert.deepEqual(
      failures.planInputs().backoffs.map((b) => b.key),
      ['createNetwork:b_default', 'pullImage:img'],
    );
    assert.equal(failures.networkRemoved(), false, 'released once');
  });

  it('a success ends the backoff; a new target forgets everything', () => {
    const { failures } = memory();
    failures.record(
      { step: pull, status: 'failed', error: new BosunError('IMAGE_PULL_FAILED', 'x') },
      empty,
    );
    failures.record({ step: pull, status: 'ok', error: undefined }, empty);
    assert.deepEqual(failures.planInputs().failedPulls, []);
    failures.record(
      { step: pull, status: 'failed', error: new BosunError('IMAGE_PULL_FAILED', 'x') },
      empty,
    );
    failures.forgetTarget();
    assert.deepEqual(failures.planInputs(), { backoffs: [], failedPulls: [], lockWaits: [] });
  });

  it('a container dying with an error inside the crash window backs its service off', async () => {
    const { clock, failures } = memory();
    const start: Step = {
      kind: 'startContainer',
      id: 'startContainer:app:main:c',
      reason: '',
      dependsOn: [],
      appUuid: 'app',
      containerId: 'c',
      serviceName: 'main',
    };
    const labels = { 'io.balena.app-uuid': 'app', 'io.balena.service-name': 'main' };
    failures.record({ step: start, status: 'ok', error: undefined }, empty);
    failures.noteDeath(labels, 143); // stopped by a signal: not the service's fault
    assert.deepEqual(failures.planInputs().backoffs, []);
    failures.noteDeath(labels, 1);
    assert.deepEqual(
      failures.planInputs().backoffs.map((b) => b.key),
      ['app/main'],
    );
    failures.record({ step: start, status: 'ok', error: undefined }, empty);
    await clock.advance(11_000);
    failures.noteDeath(labels, 1); // long after the start: a crash, not a failed start
    assert.deepEqual(failures.planInputs().backoffs, []);
  });
});
