/**
 * Lock waits: when the host refused our `takeLock` because of a user's update lock (UPDATES_LOCKED), the
 * reconciler's failure memory gives the planner a lock wait for the app; the planner then withholds the
 * app's lock-taking and everything that needs the lock, with a `locked` blocker, while the app's user
 * locks are exactly as they were, and plans them again as soon as they change. Force overrides it.
 * (This was a filter the reconciler applied after the planner; it is the planner's own rule now.)
 */
import assert from 'node:assert/strict';
import { userLockSignature } from '../../../src/planner/index.js';
import {
  APP_A,
  APP_B,
  app,
  image,
  materialise,
  release,
  service,
  target,
} from '../../support/planner-builders.js';
import { R1, R2, ancestors, ids, run, stepsOf } from '../../support/planner-fixtures.js';

const relA1 = release(R1, { services: [service(R1, 'api')] });
const relA2 = release(R2, { services: [service(R2, 'api')] });
const web = release({ app: APP_B, commit: 'b1', releaseId: 1 }, { services: [] });
const running = materialise(target(app(APP_A, relA1), app(APP_B, web)));
const current = { ...running, images: [...running.images, image('registry.test/api:c2')] };
const next = target(app(APP_A, relA2), app(APP_B, web));
const stop = 'stopContainer:aaaa:api:id-api_1031_1_c1';

describe('planner: lock waits', () => {
  it('without a lock wait, the update takes the lock before stopping the old container', () => {
    const p = run({ target: next, current });
    assert.ok(ids(p).includes('takeLock:1'));
    assert.ok(ancestors(p, stop).has('takeLock:1'));
  });

  it('withholds the lock and what needs it while the user locks are as they were', () => {
    const signature = userLockSignature(current.locks, APP_A.appId);
    const p = run({
      target: next,
      current,
      ctx: { lockWaits: [{ appId: APP_A.appId, userLocks: signature }] },
    });
    assert.equal(stepsOf(p, 'takeLock').length, 0);
    assert.ok(!ids(p).includes(stop), 'the stop that needs the lock waits too');
    assert.deepEqual(
      p.blockers.filter((b) => b.kind === 'locked'),
      [{ kind: 'locked', appUuid: APP_A.uuid, serviceName: 'api' }],
    );
  });

  it('plans the lock again once the user locks changed, and force ignores the wait', () => {
    const changed = run({
      target: next,
      current,
      ctx: { lockWaits: [{ appId: APP_A.appId, userLocks: '1/some-service-that-let-go' }] },
    });
    assert.ok(ids(changed).includes('takeLock:1'));
    const forced = run({
      target: next,
      current,
      ctx: {
        force: true,
        lockWaits: [{ appId: APP_A.appId, userLocks: userLockSignature(current.locks, 1) }],
      },
    });
    assert.equal(stepsOf(forced, 'takeLock')[0]?.force, true);
  });

  it('a lock wait of another app changes nothing here', () => {
    const p = run({ target: next, current, ctx: { lockWaits: [{ appId: 99, userLocks: '' }] } });
    assert.ok(ids(p).includes('takeLock:1'));
  });
});
