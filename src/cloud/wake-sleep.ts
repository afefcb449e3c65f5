/**
 * A sleep that something else can cut short: the poll loop sleeps until its next poll or until
 * `POST /v1/update` wakes it; the report loop until its next tick or until the state changed.
 */
import type { Clock } from '../shared/clock.js';

export class WakeableSleep {
  private wakeCurrent: (() => void) | undefined;
  private pending = false;

  constructor(private readonly clock: Clock) {}

  /** Resolves after `ms`, at a wake() (also one that came while not sleeping), or when `signal` aborts. */
  async sleep(ms: number, signal?: AbortSignal): Promise<'woken' | 'timeout'> {
    // Aborted already (while the loop was busy): its 'abort' event is gone, so say so now; else the
    // loop would go on after stop() forever.
    signal?.throwIfAborted();
    if (this.pending) {
      this.pending = false;
      return 'woken';
    }
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let woken = false;
    this.wakeCurrent = () => {
      woken = true;
      controller.abort();
    };
    try {
      await this.clock.sleep(ms, controller.signal);
      return 'timeout';
    } catch (err) {
      if (woken) return 'woken';
      throw err;
    } finally {
      this.wakeCurrent = undefined;
      signal?.removeEventListener('abort', onAbort);
    }
  }

  wake(): void {
    if (this.wakeCurrent !== undefined) this.wakeCurrent();
    else this.pending = true;
  }
}
