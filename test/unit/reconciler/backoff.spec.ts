import assert from 'node:assert/strict';
import { KeyedBackoff } from '../../../src/shared/backoff.js';
import { ManualClock } from './support/manual-clock.js';

describe('KeyedBackoff', () => {
  const options = { baseMs: 1000, capMs: 8000, jitter: 0, resetAfterMs: 60_000 };

  it('doubles per failure up to the cap, per key', () => {
    const clock = new ManualClock();
    const backoff = new KeyedBackoff(clock, options);
    const start = clock.now();
    const delays = [1, 2, 3, 4, 5].map(() => backoff.fail('pull:a', 'boom') - start);
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 8000]);
    assert.equal(backoff.active('pull:b'), undefined, 'another key is not held back');
    assert.equal(backoff.active('pull:a')?.failures, 5);
  });

  it('holds a key back only until its deadline', async () => {
    const clock = new ManualClock();
    const backoff = new KeyedBackoff(clock, options);
    backoff.fail('k', 'e');
    assert.ok(backoff.active('k'));
    await clock.advance(999);
    assert.ok(backoff.active('k'));
    await clock.advance(1);
    assert.equal(backoff.active('k'), undefined);
  });

  it('starts from the base delay again after a healthy window', async () => {
    const clock = new ManualClock();
    const backoff = new KeyedBackoff(clock, options);
    backoff.fail('k', 'e');
    backoff.fail('k', 'e');
    await clock.advance(60_000);
    assert.equal(backoff.fail('k', 'e') - clock.now(), 1000);
  });

  it('a success lifts the hold at once but keeps counting within the window', () => {
    const clock = new ManualClock();
    const backoff = new KeyedBackoff(clock, options);
    backoff.fail('k', 'e');
    backoff.succeed('k');
    assert.equal(backoff.active('k'), undefined);
    assert.equal(
      backoff.fail('k', 'e') - clock.now(),
      2000,
      'a flapping key still grows its delay',
    );
  });

  it('jitters within the configured spread and never beyond the cap', () => {
    const clock = new ManualClock();
    const low = new KeyedBackoff(clock, { ...options, jitter: 0.5 }, () => 0);
    const high = new KeyedBackoff(clock, { ...options, jitter: 0.5 }, () => 0.999999);
    assert.equal(low.fail('k', 'e') - clock.now(), 500);
    assert.ok(high.fail('k', 'e') - clock.now() <= 1500);
    for (let i = 0; i < 6; i++) high.fail('k', 'e');
    assert.equal(high.fail('k', 'e') - clock.now(), 8000);
  });

  it('snapshot lists only keys held back now', async () => {
    const clock = new ManualClock();
    const backoff = new KeyedBackoff(clock, options);
    backoff.fail('a', 'x');
    backoff.fail('b', 'y');
    backoff.fail('b', 'y');
    await clock.advance(1500);
    assert.deepEqual([...backoff.snapshot().keys()], ['b']);
    assert.equal(backoff.snapshot().get('b')?.lastError, 'y');
  });
});
