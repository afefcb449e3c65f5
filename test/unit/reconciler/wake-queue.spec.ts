import assert from 'node:assert/strict';
import { WakeQueue } from '../../../src/reconciler/wake-queue.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { flush, ManualClock } from './support/manual-clock.js';

describe('WakeQueue', () => {
  it('many wakes before the loop takes them make one round', async () => {
    const queue = new WakeQueue(new ManualClock(), 25, silentLogger());
    queue.wake('target');
    queue.wake('target');
    queue.wake('timer');
    assert.equal(queue.pending, true);
    await queue.next(); // returns at once
    assert.deepEqual(queue.take(), ['target', 'timer']);
    assert.equal(queue.pending, false);
  });

  it('rate-limits bursts and drops those an observation already covered', async () => {
    const clock = new ManualClock();
    const queue = new WakeQueue(clock, 25, silentLogger());
    queue.wakeSoon('engine-event');
    queue.wakeSoon('engine-event');
    assert.equal(queue.pending, false, 'not before the debounce window');
    await clock.advance(25);
    assert.equal(queue.pending, true);
    queue.take();
    // Events that arrive and are then covered by an observation that began later wake nothing.
    queue.wakeSoon('engine-event');
    queue.take();
    await clock.advance(25);
    assert.equal(queue.pending, false);
  });

  it('one timer: a new deadline replaces the old; close releases a waiting loop', async () => {
    const clock = new ManualClock();
    const queue = new WakeQueue(clock, 25, silentLogger());
    queue.wakeAt(clock.now() + 1_000, 'first');
    queue.wakeAt(clock.now() + 5_000, 'second');
    await clock.advance(1_000);
    assert.equal(queue.pending, false, 'the first deadline was replaced');
    await clock.advance(4_000);
    assert.deepEqual(queue.take(), ['second']);
    const waiting = queue.next();
    queue.close();
    await waiting;
    queue.wake('after-close');
    await flush();
    assert.equal(queue.pending, false);
  });
});
