import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { EngineEvent } from '../../../src/engine/port.js';
import { resilientEventStream } from '../../../src/engine/resilient-events.js';
import type { Clock } from '../../../src/shared/clock.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { collectEvents, firstEvent } from '../../support/event-feed.js';

/** A clock whose sleeps return at once but are recorded: the backoff is visible without waiting. */
function recordingClock(now = 1_700_000_000_000): Clock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: (ms, signal) => {
      sleeps.push(ms);
      if (signal?.aborted) return Promise.reject(signal.reason as Error);
      return new Promise((resolve) => setImmediate(resolve));
    },
  };
}

function event(id: string, timeNano: bigint): string {
  return `{"Type":"container","Action":"start","Actor":{"ID":"${id}","Attributes":{"name":"${id}"}},"timeNano":${timeNano}}\n`;
}

/** `open` that serves a script of outcomes: a body to stream, or an error to fail with. */
function scriptedOpen(outcomes: Array<PassThrough | Error>) {
  const calls: string[] = [];
  return {
    calls,
    open: (since: string, signal: AbortSignal): Promise<AsyncIterable<Buffer>> => {
      calls.push(since);
      const next = outcomes.shift();
      if (next === undefined) return new Promise(() => undefined); // never answers: the test ends first
      if (next instanceof Error) return Promise.reject(next);
      signal.addEventListener('abort', () => next.destroy(), { once: true });
      return Promise.resolve(next);
    },
  };
}

const idOf = (e: EngineEvent): string => (e.type === 'container' ? `${e.action}:${e.id}` : e.type);

describe('resilientEventStream', function () {
  it('streams events on one connection, without polling, shared by every subscriber', async function () {
    const body = new PassThrough();
    const source = scriptedOpen([body]);
    const closed = new AbortController();
    const events = resilientEventStream({
      ...source,
      clock: recordingClock(),
      logger: silentLogger(),
      closed: closed.signal,
    });
    const a = collectEvents(events, { count: 2 });
    const b = collectEvents(events, { count: 2 });
    body.write(event('c1', 5n));
    body.write(event('c2', 6n));
    assert.deepEqual((await a).map(idOf), ['start:c1', 'start:c2']);
    assert.deepEqual((await b).map(idOf), ['start:c1', 'start:c2']);
    assert.equal(
      source.calls.length,
      1,
      'one connection for both, and no reconnects while it is up',
    );
    assert.equal(source.calls[0], '1700000000.000000000', 'asks for events since the subscription');
    closed.abort();
  });

  it('after a break: disconnected, capped doubling backoff, reconnected, resuming after the last event', async function () {
    const first = new PassThrough();
    const second = new PassThrough();
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const source = scriptedOpen([first, refused, refused, refused, second]);
    const clock = recordingClock();
    const closed = new AbortController();
    const events = resilientEventStream({
      ...source,
      clock,
      logger: silentLogger(),
      closed: closed.signal,
      backoff: { initialMs: 100, maxMs: 300 },
    });
    const seen = collectEvents(events, { count: 4 });
    first.write(event('c1', 1_700_000_001_000_000_123n));
    first.end(); // the engine went away
    await firstEvent(events, (e) => e.type === 'reconnected');
    second.write(event('c2', 1_700_000_002_000_000_000n));
    const got = await seen;
    assert.deepEqual(got.map(idOf), ['start:c1', 'disconnected', 'reconnected', 'start:c2']);
    assert.deepEqual(
      clock.sleeps,
      [100, 200, 300, 300],
      'doubling, capped, one sleep per failed attempt',
    );
    assert.equal(
      source.calls.at(-1),
      '1700000001.000000124',
      'resumes just after the last event seen',
    );
    closed.abort();
  });

  it('completes on close and stops connecting', async function () {
    const body = new PassThrough();
    const source = scriptedOpen([body]);
    const closed = new AbortController();
    const events = resilientEventStream({
      ...source,
      clock: recordingClock(),
      logger: silentLogger(),
      closed: closed.signal,
    });
    const all = collectEvents(events);
    body.write(event('c1', 1n));
    await new Promise((resolve) => setImmediate(resolve));
    closed.abort();
    assert.deepEqual((await all).map(idOf), ['start:c1']);
    assert.ok(body.destroyed, 'the connection was closed');
    assert.equal(source.calls.length, 1);
    assert.deepEqual(await collectEvents(events), [], 'a closed stream completes at once');
  });
});
