/**
 * A hot, shared engine event stream that outlives the engine: one `GET /events` connection for every
 * subscriber; when it breaks (engine restart, socket gone) subscribers get `disconnected`, the stream
 * reconnects with capped exponential backoff, and `reconnected` tells them to re-observe. No polling:
 * while connected it only waits on the socket. Completes when `closed` aborts.
 *
 * Each connection asks for events `since` the last one seen (or the first subscription), so nothing
 * between subscribing and the connection being up is lost, and a short break that the engine itself
 * survived replays what was missed.
 */
import type { Clock } from '../shared/clock.js';
import { sharedFeed, type EventFeed } from '../shared/event-feed.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { toEngineSince } from '../shared/engine-timestamp.js';
import { parseEngineEvent } from './docker-event-mapping.js';
import { textLines } from './json-lines.js';
import type { EngineEvent } from './port.js';

export interface EventStreamDeps {
  /** Opens `GET /events?since=…`; the body must end (or error) when `signal` aborts. */
  open(since: string, signal: AbortSignal): Promise<AsyncIterable<Buffer | string>>;
  clock: Clock;
  logger: Logger;
  /** Aborted by the adapter's close(): the stream completes for good. */
  closed: AbortSignal;
  backoff?: { initialMs: number; maxMs: number };
}

const DEFAULT_BACKOFF = { initialMs: 100, maxMs: 5_000 };

export function resilientEventStream(deps: EventStreamDeps): EventFeed<EngineEvent> {
  return sharedFeed<EngineEvent>((sink) => {
    const stop = new AbortController();
    const onClosed = (): void => stop.abort();
    if (deps.closed.aborted) stop.abort();
    else deps.closed.addEventListener('abort', onClosed, { once: true });
    void pump(deps, sink, stop.signal).finally(() => {
      deps.closed.removeEventListener('abort', onClosed);
      sink.complete();
    });
    return () => stop.abort();
  });
}

async function pump(
  deps: EventStreamDeps,
  subscriber: { next(event: EngineEvent): void },
  signal: AbortSignal,
): Promise<void> {
  const backoff = deps.backoff ?? DEFAULT_BACKOFF;
  let since = BigInt(deps.clock.now()) * 1_000_000n;
  let down = false;
  let attempt = 0;
  while (!signal.aborted) {
    let reason = 'the engine closed the event stream';
    try {
      const body = await deps.open(toEngineSince(since), signal);
      if (down) {
        down = false;
        deps.logger.info('engine.events.reconnected', { attempts: attempt });
        subscriber.next({ type: 'reconnected', time: deps.clock.now() });
      }
      attempt = 0;
      for await (const line of textLines(body)) {
        const parsed = parseEngineEvent(line);
        if (parsed === undefined) continue;
        if (parsed.timeNano !== undefined) since = parsed.timeNano + 1n;
        subscriber.next(parsed.event);
      }
    } catch (err) {
      reason = errorMessage(err);
    }
    if (signal.aborted) return;
    if (!down) {
      down = true;
      deps.logger.warn('engine.events.disconnected', { reason });
      subscriber.next({ type: 'disconnected', time: deps.clock.now(), reason });
    }
    const delay = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 30));
    attempt++;
    try {
      await deps.clock.sleep(delay, signal);
    } catch {
      return; // aborted while waiting
    }
  }
}
