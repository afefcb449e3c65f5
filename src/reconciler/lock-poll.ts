/**
 * While an update waits for a user's update lock, the lock files are re-read (cheap file reads, no
 * engine requests) until the user locks change, which wakes the loop. Lock files have no events.
 */
import { userLockSignature } from '../planner/index.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { LockReader } from './observe.js';
import type { WakeQueue } from './wake-queue.js';

export class LockPoll {
  private running: AbortController | undefined;

  constructor(
    private readonly deps: {
      clock: Clock;
      locks: LockReader;
      queue: WakeQueue;
      log: Logger;
      intervalMs: number;
    },
  ) {}

  /** Starts polling (unless it already runs) against the user locks in `baseline`. */
  start(baseline: string): void {
    if (this.running !== undefined) return;
    const controller = new AbortController();
    this.running = controller;
    const { clock, locks, queue, log, intervalMs } = this.deps;
    void (async () => {
      try {
        for (;;) {
          await clock.sleep(intervalMs, controller.signal);
          if (userLockSignature(await locks.list()) !== baseline) break;
        }
        if (this.running === controller) this.running = undefined;
        queue.wake('locks-changed');
      } catch (err) {
        if (!controller.signal.aborted) log.warn('reconciler.lock-poll-failed', { err });
        if (this.running === controller) this.running = undefined;
      }
    })();
  }

  stop(): void {
    this.running?.abort();
    this.running = undefined;
  }
}
