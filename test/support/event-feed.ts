/**
 * Waiting on an EventFeed in tests: collect what a filter lets through until a count is reached, an
 * event matches `until` (kept), or the feed completes. The guard timeout only turns a hang into a
 * failure; it asserts nothing about speed.
 */
import type { EventFeed } from '../../src/shared/event-feed.js';

export interface CollectOptions<T> {
  filter?: (value: T) => boolean;
  /** Stop after this many values (that passed the filter). */
  count?: number;
  /** Stop after the first value (that passed the filter) for which this holds, keeping it. */
  until?: (value: T) => boolean;
  timeoutMs?: number;
}

export function collectEvents<T>(
  feed: EventFeed<T>,
  options: CollectOptions<T> = {},
): Promise<T[]> {
  return new Promise<T[]>((resolve, reject) => {
    const got: T[] = [];
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Deferred: finish can run inside subscribe(), before `subscription` is assigned.
      queueMicrotask(() => subscription.unsubscribe());
      if (error === undefined) resolve(got);
      else reject(error);
    };
    const timer = setTimeout(
      () => finish(new Error(`no matching events within ${options.timeoutMs ?? 60_000} ms`)),
      options.timeoutMs ?? 60_000,
    );
    const subscription = feed.subscribe({
      next: (value) => {
        if (settled || (options.filter !== undefined && !options.filter(value))) return;
        got.push(value);
        if (options.count !== undefined && got.length >= options.count) finish();
        else if (options.until?.(value) === true) finish();
      },
      complete: () =>
        options.count === undefined && options.until === undefined
          ? finish()
          : finish(new Error(`the feed completed after ${got.length} matching events`)),
    });
  });
}

/** The first value that passes `filter`. */
export async function firstEvent<T>(
  feed: EventFeed<T>,
  filter: (value: T) => boolean = () => true,
  timeoutMs?: number,
): Promise<T> {
  const [first] = await collectEvents(feed, { filter, count: 1, timeoutMs });
  return first as T;
}
