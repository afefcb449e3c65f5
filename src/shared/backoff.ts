/**
 * Keyed backoff: one failure counter per key (a service, a step id, "apply"), so a crash-looping service
 * or an image that will not download holds back only what is keyed on it. Delays double from `baseMs`
 * up to `capMs`, with ±`jitter` spread so that many devices (or keys) do not retry in lockstep. A key
 * whose last failure is older than `resetAfterMs` starts again from the base delay: it has been healthy
 * for a while. Time comes from an injected Clock and randomness from an injected source, so tests are exact.
 */
import type { Clock } from './clock.js';

export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  /** 0..1: the delay is multiplied by a factor drawn from [1 - jitter, 1 + jitter] (then capped). */
  jitter: number;
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  baseMs: 2_000,
  capMs: 300_000,
  jitter: 0.2,
  resetAfterMs: 600_000,
};

export interface BackoffEntry {
  failures: number;
  lastFailureAt: number;
  /** Epoch ms before which the key must not be retried. */
  until: number;
  lastError: string;
}

export class KeyedBackoff {
  private readonly entries = new Map<string, BackoffEntry>();
  private readonly options: BackoffOptions;

  constructor(
    private readonly clock: Clock,
    options: Partial<BackoffOptions> = {},
    private readonly random: () => number = Math.random,
  ) {
    this.options = { ...DEFAULT_BACKOFF, ...options };
  }

  /**
   * Records a failure and returns until when the key is held back. `atCap`: the error will not go away
   * by waiting (it is not retryable), so the key waits the longest delay at once.
   */
  fail(key: string, error: string, options: { atCap?: boolean } = {}): number {
    const now = this.clock.now();
    const previous = this.entries.get(key);
    const healthySince =
      previous === undefined || now - previous.lastFailureAt >= this.options.resetAfterMs;
    const failures = healthySince ? 1 : previous.failures + 1;
    const { baseMs, capMs, jitter } = this.options;
    const raw =
      options.atCap === true ? capMs : Math.min(capMs, baseMs * 2 ** Math.min(failures - 1, 30));
    const factor = 1 - jitter + 2 * jitter * this.random();
    const delay = Math.max(0, Math.min(capMs, Math.round(raw * factor)));
    const entry = { failures, lastFailureAt: now, until: now + delay, lastError: error };
    this.entries.set(key, entry);
    return entry.until;
  }

  /** A success ends the backoff at once (the counter itself only decays after the healthy window). */
  succeed(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    if (this.clock.now() - entry.lastFailureAt >= this.options.resetAfterMs)
      this.entries.delete(key);
    else entry.until = 0;
  }

  /** Forgets a key entirely (e.g. a new target makes old failures irrelevant). */
  reset(key?: string): void {
    if (key === undefined) this.entries.clear();
    else this.entries.delete(key);
  }

  /** The entry if the key is held back right now. */
  active(key: string): BackoffEntry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    const now = this.clock.now();
    if (now - entry.lastFailureAt >= this.options.resetAfterMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.until > now ? { ...entry } : undefined;
  }

  /** Every key held back right now, for the planner's context and for status. */
  snapshot(): ReadonlyMap<string, BackoffEntry> {
    const out = new Map<string, BackoffEntry>();
    for (const key of [...this.entries.keys()]) {
      const entry = this.active(key);
      if (entry !== undefined) out.set(key, entry);
    }
    return out;
  }
}
