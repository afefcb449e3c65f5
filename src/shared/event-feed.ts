/**
 * A push feed of events with the one shape bosun needs: subscribe with `next` (and optionally
 * `complete`), unsubscribe when done. The engine's event stream and log capture's view of it are the
 * only feeds; a full reactive library (rxjs: ~150 KB of bundle, all of it parsed and held by the idle
 * agent) was more than two observables earn (BENCHMARKS.md, "Idle, module weight and soak").
 *
 * Delivery is synchronous and in order. A subscriber whose `next` throws does not stop delivery to the
 * others: the error is rethrown on its own turn of the event loop (as an uncaught exception, where a
 * bug belongs), not into the producer's loop, which would take it for a broken engine connection.
 */
export interface FeedObserver<T> {
  next(value: T): void;
  /** The feed ended for good (its producer was closed); no more values follow. */
  complete?(): void;
}

export interface FeedSubscription {
  unsubscribe(): void;
}

export interface EventFeed<T> {
  subscribe(observer: FeedObserver<T> | ((value: T) => void)): FeedSubscription;
}

const rethrowLater = (err: unknown): void => {
  setTimeout(() => {
    throw err;
  }, 0);
};

/**
 * Fans values out to the current subscribers. After `complete()` new subscribers are told at once that
 * the feed has ended.
 */
export class EventHub<T> implements EventFeed<T> {
  private readonly observers = new Set<FeedObserver<T>>();
  private ended = false;

  /** `onEmpty` runs when the last subscriber leaves (before the feed has ended). */
  constructor(private readonly onEmpty?: () => void) {}

  get subscriberCount(): number {
    return this.observers.size;
  }

  subscribe(observer: FeedObserver<T> | ((value: T) => void)): FeedSubscription {
    const o: FeedObserver<T> = typeof observer === 'function' ? { next: observer } : observer;
    if (this.ended) {
      o.complete?.();
      return { unsubscribe: () => undefined };
    }
    // A wrapper per subscription, so subscribing the same observer twice gives two subscriptions.
    const entry: FeedObserver<T> = { next: (v) => o.next(v), complete: () => o.complete?.() };
    this.observers.add(entry);
    return {
      unsubscribe: () => {
        if (!this.observers.delete(entry)) return;
        if (this.observers.size === 0 && !this.ended) this.onEmpty?.();
      },
    };
  }

  next(value: T): void {
    if (this.ended) return;
    // A copy: a subscriber may unsubscribe (itself or another) while being called.
    for (const o of [...this.observers]) {
      if (!this.observers.has(o)) continue;
      try {
        o.next(value);
      } catch (err) {
        rethrowLater(err);
      }
    }
  }

  complete(): void {
    if (this.ended) return;
    this.ended = true;
    const observers = [...this.observers];
    this.observers.clear();
    for (const o of observers) {
      try {
        o.complete?.();
      } catch (err) {
        rethrowLater(err);
      }
    }
  }
}

/**
 * A hot feed shared by all its subscribers: `start` runs when the first one subscribes and gets a sink
 * to push into; the teardown it returns runs when the last one leaves or the producer completes. A
 * later subscriber starts it afresh (one engine connection while anyone listens, none otherwise).
 */
export function sharedFeed<T>(
  start: (sink: { next(value: T): void; complete(): void }) => () => void,
): EventFeed<T> {
  let current: { hub: EventHub<T>; teardown: () => void } | undefined;
  const stop = (hub: EventHub<T>): void => {
    if (current?.hub !== hub) return;
    const { teardown } = current;
    current = undefined;
    teardown();
  };
  return {
    subscribe(observer) {
      if (current === undefined) {
        const hub: EventHub<T> = new EventHub<T>(() => stop(hub));
        const running = { hub, teardown: (): void => undefined };
        current = running;
        const subscription = hub.subscribe(observer);
        const teardown = start({
          next: (value) => hub.next(value),
          complete: () => {
            stop(hub);
            hub.complete();
          },
        });
        // The producer may have ended (or everyone left) before start returned.
        if (current === running) running.teardown = teardown;
        else teardown();
        return subscription;
      }
      return current.hub.subscribe(observer);
    },
  };
}
