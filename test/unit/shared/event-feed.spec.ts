import assert from 'node:assert/strict';
import { EventHub, sharedFeed } from '../../../src/shared/event-feed.js';

describe('EventHub', function () {
  it('delivers to every subscriber in order, and not after unsubscribe', function () {
    const hub = new EventHub<number>();
    const a: number[] = [];
    const b: number[] = [];
    const sa = hub.subscribe((v) => a.push(v));
    hub.subscribe({ next: (v) => b.push(v) });
    hub.next(1);
    sa.unsubscribe();
    hub.next(2);
    assert.deepEqual(a, [1]);
    assert.deepEqual(b, [1, 2]);
  });

  it('a subscriber that unsubscribes another while being called stops its delivery at once', function () {
    const hub = new EventHub<number>();
    const got: string[] = [];
    const others: { unsubscribe(): void }[] = [];
    hub.subscribe((v) => {
      got.push(`first ${v}`);
      for (const o of others) o.unsubscribe();
    });
    others.push(hub.subscribe((v) => got.push(`second ${v}`)));
    hub.next(1);
    assert.deepEqual(got, ['first 1']);
  });

  it('complete tells current and later subscribers, and nothing is delivered after it', function () {
    const hub = new EventHub<number>();
    const log: string[] = [];
    hub.subscribe({ next: (v) => log.push(`a ${v}`), complete: () => log.push('a done') });
    hub.complete();
    hub.next(1);
    hub.subscribe({ next: (v) => log.push(`b ${v}`), complete: () => log.push('b done') });
    assert.deepEqual(log, ['a done', 'b done']);
  });

  it('a throwing subscriber does not stop the others; its error surfaces as uncaught, not into next()', async function () {
    const hub = new EventHub<number>();
    const got: number[] = [];
    const boom = new Error('subscriber bug');
    hub.subscribe(() => {
      throw boom;
    });
    hub.subscribe((v) => got.push(v));
    const listeners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    const uncaught = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
    try {
      assert.doesNotThrow(() => hub.next(7));
      assert.deepEqual(got, [7]);
      assert.equal(await uncaught, boom);
    } finally {
      for (const l of listeners) process.on('uncaughtException', l);
    }
  });
});

describe('sharedFeed', function () {
  it('starts the producer once for all subscribers and tears it down when the last one leaves', function () {
    const log: string[] = [];
    let push: ((v: number) => void) | undefined;
    const feed = sharedFeed<number>((sink) => {
      log.push('start');
      push = (v) => sink.next(v);
      return () => log.push('teardown');
    });
    const a: number[] = [];
    const b: number[] = [];
    const sa = feed.subscribe((v) => a.push(v));
    const sb = feed.subscribe((v) => b.push(v));
    push?.(1);
    sa.unsubscribe();
    push?.(2);
    sb.unsubscribe();
    assert.deepEqual(a, [1]);
    assert.deepEqual(b, [1, 2]);
    assert.deepEqual(log, ['start', 'teardown']);
    // A later subscriber starts it afresh.
    feed.subscribe(() => undefined);
    assert.deepEqual(log, ['start', 'teardown', 'start']);
  });

  it('when the producer completes, subscribers are told and the teardown runs once', function () {
    const log: string[] = [];
    let end: (() => void) | undefined;
    const feed = sharedFeed<number>((sink) => {
      end = () => sink.complete();
      return () => log.push('teardown');
    });
    const sub = feed.subscribe({ next: () => undefined, complete: () => log.push('complete') });
    end?.();
    sub.unsubscribe();
    assert.deepEqual(log, ['teardown', 'complete']);
  });

  it('a producer that completes before start returns is still torn down', function () {
    const log: string[] = [];
    const feed = sharedFeed<number>((sink) => {
      sink.complete();
      return () => log.push('teardown');
    });
    feed.subscribe({ next: () => undefined, complete: () => log.push('complete') });
    assert.deepEqual(log, ['complete', 'teardown']);
  });
});
