/** A Clock the test moves by hand: sleeps resolve when `advance` passes their deadline. */
import type { Clock } from '../../../../src/shared/clock.js';

interface Sleeper {
  at: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class ManualClock implements Clock {
  private sleepers: Sleeper[] = [];

  constructor(private current = 1_700_000_000_000) {}

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const sleeper: Sleeper = { at: this.current + Math.max(0, ms), resolve, reject };
      this.sleepers.push(sleeper);
      signal?.addEventListener(
        'abort',
        () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          reject(signal.reason as Error);
        },
        { once: true },
      );
    });
  }

  /** Moves time forward, waking every sleeper whose deadline passed (in deadline order). */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      const due = this.sleepers.filter((s) => s.at <= target).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.sleepers = this.sleepers.filter((s) => s !== due);
      this.current = Math.max(this.current, due.at);
      due.resolve();
      await flush();
    }
    this.current = target;
    await flush();
  }

  pendingSleeps(): number[] {
    return this.sleepers.map((s) => s.at - this.current).sort((a, b) => a - b);
  }
}

/** Lets queued promise callbacks and I/O callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
