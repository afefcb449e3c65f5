/**
 * Where a container's log capture got to, so that re-attaching (after the container restarts, the engine
 * restarts or bosun restarts) neither repeats nor skips a line.
 *
 * A single "last timestamp" is not enough: the engine stamps stdout and stderr in separate goroutines,
 * so a file can hold a stderr line stamped just *before* the stdout line written ahead of it, and two
 * lines can share a timestamp across streams. So the cursor keeps a short window: every line older
 * than `floor` has been published, and of the lines at or after `floor`, exactly those in `seen`.
 * Re-attaching asks the engine for lines since `floor` and admits only those not seen.
 */
import { formatEngineTimestamp, parseEngineTimestamp } from '../shared/engine-timestamp.js';

export interface LogCursorState {
  /** Nanoseconds since the epoch, as a decimal string (JSON has no bigint). */
  floor: string;
  /** `<nanoseconds>:<o|e>` of the lines at or after `floor` already published. */
  seen: string[];
}

export interface LogCursorLimits {
  /** How far behind the newest line a late (out-of-order) line may still arrive. */
  windowNanos: bigint;
  /** Upper bound on remembered lines, so a chatty container cannot grow the cursor without limit. */
  maxSeen: number;
}

export const DEFAULT_CURSOR_LIMITS: LogCursorLimits = {
  windowNanos: 1_000_000_000n,
  maxSeen: 2000,
};

export class LogCursor {
  private floor: bigint | undefined;
  /** key → nanoseconds; insertion order is arrival order, close to time order. */
  private readonly seen = new Map<string, bigint>();
  private newest: bigint | undefined;
  /** Nanoseconds of the first entry of `seen` (insertion order): what `prune` would look at first. */
  private first: bigint | undefined;

  constructor(
    state: LogCursorState | undefined,
    private readonly limits: LogCursorLimits = DEFAULT_CURSOR_LIMITS,
  ) {
    if (state === undefined) return;
    this.floor = BigInt(state.floor);
    for (const key of state.seen) {
      const nanos = BigInt(key.slice(0, key.indexOf(':')));
      this.first ??= nanos;
      this.seen.set(key, nanos);
      if (this.newest === undefined || nanos > this.newest) this.newest = nanos;
    }
  }

  /** Where to ask the engine to start (inclusive); undefined means from the container's first line. */
  get since(): string | undefined {
    return this.floor === undefined ? undefined : formatEngineTimestamp(this.floor);
  }

  /** Records the line and says whether it is new (publish it) or was published before (drop it). */
  admit(timestamp: string, stream: 'stdout' | 'stderr'): boolean {
    const nanos = parseEngineTimestamp(timestamp);
    if (this.floor !== undefined && nanos < this.floor) return false;
    const key = `${nanos}:${stream === 'stderr' ? 'e' : 'o'}`;
    if (this.seen.has(key)) return false;
    if (this.seen.size === 0) this.first = nanos;
    this.seen.set(key, nanos);
    if (this.newest === undefined || nanos > this.newest) this.newest = nanos;
    this.prune();
    return true;
  }

  toState(): LogCursorState | undefined {
    if (this.floor === undefined) return undefined;
    return { floor: this.floor.toString(), seen: [...this.seen.keys()] };
  }

  private prune(): void {
    if (this.newest === undefined) return;
    const windowStart = this.newest - this.limits.windowNanos;
    if (this.floor === undefined || windowStart > this.floor) this.floor = windowStart;
    // The loop below would stop at once: skip it (it ran for every line, a few % of capture's CPU).
    if (
      this.first !== undefined &&
      this.first >= this.floor &&
      this.seen.size <= this.limits.maxSeen
    )
      return;
    // Arrival order is close to time order, so stale entries sit at the front: stop at the first fresh
    // one. A straggler left behind is harmless (the floor already covers it) and goes on a later pass.
    for (const [key, nanos] of this.seen) {
      if (nanos >= this.floor && this.seen.size <= this.limits.maxSeen) break;
      if (nanos >= this.floor) this.floor = nanos + 1n;
      this.seen.delete(key);
    }
    this.first = this.seen.values().next().value;
  }
}
