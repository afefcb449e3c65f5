import assert from 'node:assert/strict';
import type { ContainerState, CurrentState, LockState } from '../../../src/domain/model.js';
import { userLockSignature } from '../../../src/planner/index.js';
import { StaleLockTracker } from '../../../src/reconciler/stale-locks.js';

function state(
  locks: LockState[],
  containers: Array<Pick<ContainerState, 'appId' | 'serviceName' | 'status'>>,
): CurrentState {
  return {
    containers: containers as ContainerState[],
    images: [],
    networks: [],
    volumes: [],
    locks,
    downloads: [],
    handoverComplete: [],
    commits: {},
  };
}

describe('StaleLockTracker', () => {
  const lock: LockState = { appId: 1, serviceName: 'api', heldBy: 'user' };

  it('honours a user lock while its service runs, however long', () => {
    const tracker = new StaleLockTracker(1000);
    for (const now of [0, 5000, 50_000]) {
      const s = tracker.update(
        state([lock], [{ appId: 1, serviceName: 'api', status: 'running' }]),
        now,
      );
      assert.equal(s.stale.size, 0);
      assert.equal(s.nextDeadline, undefined);
    }
  });

  it('a lock whose service has no running container turns stale after the window, with a deadline before', () => {
    const tracker = new StaleLockTracker(1000);
    const dead = state([lock], [{ appId: 1, serviceName: 'api', status: 'exited' }]);
    assert.equal(tracker.update(dead, 100).nextDeadline, 1100);
    assert.equal(tracker.update(dead, 1099).stale.size, 0);
    assert.deepEqual([...tracker.update(dead, 1100).stale], ['1/api']);
  });

  it('a container coming back resets the window; agent locks are never stale', () => {
    const tracker = new StaleLockTracker(1000);
    tracker.update(state([lock], []), 0);
    tracker.update(state([lock], [{ appId: 1, serviceName: 'api', status: 'running' }]), 500);
    assert.equal(tracker.update(state([lock], []), 1200).stale.size, 0, 'window restarted at 1200');
    const agent = tracker.update(state([{ ...lock, heldBy: 'agent' }], []), 10_000);
    assert.equal(agent.stale.size, 0);
  });

  it('signatures compare the user locks of one app', () => {
    const locks: LockState[] = [
      lock,
      { appId: 1, serviceName: 'db', heldBy: 'agent' },
      { appId: 2, serviceName: 'x', heldBy: 'user' },
    ];
    assert.equal(userLockSignature(locks, 1), '1/api');
    assert.equal(userLockSignature(locks), '1/api,2/x');
  });
});
