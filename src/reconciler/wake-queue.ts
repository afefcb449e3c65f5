/**
 * The one way to ask for a round (the controller-runtime work-queue shape): a new target, an engine
 * event that is not our own echo, a blocker's deadline, a user lock released, a long operation finished.
 * The loop only takes from here.
 *
 * - De-duplication: however many wakes come before the loop takes them, they make one round.
 * - Rate limiting: bursty sources (engine events) use `wakeSoon`, which waits `debounceMs` and then wakes
 *   only if something arrived after the last observation began: the events our own steps cause usually
 *   arrive while the next observation is already running, and that observation covers them.
 * - Timers: one pending deadline (`wakeAt`), replaced by the next plan's.
 */
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';

export class WakeQueue {
  private pendingReasons = new Set<string>();
  private waiter: (() => void) | undefined;
  private closed = false;
  /** Debounced wakes received, and how many of them the last `take` (observation) covered. */
  private received = 0;
  private covered = 0;
  private debouncing = false;
  private timer: AbortController | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly debounceMs: number,
    private readonly log: Logger,
  ) {}

  /** Whether a round has been asked for and not taken yet. */
  get pending(): boolean {
    return this.pendingReasons.size > 0;
  }

  wake(reason: string): void {
    if (this.closed) return;
    if (!this.pendingReasons.has(reason)) this.log.debug('reconciler.wake', { reason });
    this.pendingReasons.add(reason);
    this.waiter?.();
  }

  /** A wake from a bursty source: rate limited (see the file comment). */
  wakeSoon(reason: string): void {
    this.received++;
    if (this.debouncing || this.closed) return;
    this.debouncing = true;
    void this.clock.sleep(this.debounceMs).then(() => {
      this.debouncing = false;
      if (this.received > this.covered) this.wake(reason);
    });
  }

  /** Wakes at `at` (epoch ms), replacing any earlier deadline. */
  wakeAt(at: number, reason: string): void {
    this.cancelTimer();
    const controller = new AbortController();
    this.timer = controller;
    this.clock.sleep(Math.max(0, at - this.clock.now()), controller.signal).then(
      () => this.wake(reason),
      () => undefined,
    );
  }

  cancelTimer(): void {
    this.timer?.abort();
    this.timer = undefined;
  }

  /**
   * Called as an observation begins: everything asked for so far is covered by it. Returns the reasons.
   */
  take(): string[] {
    const reasons = [...this.pendingReasons];
    this.pendingReasons = new Set();
    this.covered = this.received;
    return reasons;
  }

  /** Resolves when a round is asked for (at once if one is pending) or the queue is closed. */
  async next(): Promise<void> {
    if (this.pending || this.closed) return;
    await new Promise<void>((resolve) => (this.waiter = resolve));
    this.waiter = undefined;
  }

  /** Lets a waiting `next` return without a wake (e.g. an action was queued). */
  nudge(): void {
    this.waiter?.();
  }

  close(): void {
    this.closed = true;
    this.cancelTimer();
    this.waiter?.();
  }
}
