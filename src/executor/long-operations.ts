/**
 * Steps that can take minutes (an image download over a slow link) run outside the round that started
 * them: the executor hands them here and the round ends at once, so one app's download never delays
 * another app's next step (a dependency turning healthy, a restart after a crash). The planner sees such
 * an operation as in progress through the observation (a download shows as an `imageDownloading`
 * blocker; a long stop marks its container `stopping`, a `containerStopping` blocker), and its completion,
 * like an engine event, wakes the loop through `onFinished`.
 *
 * Each operation has its own AbortController, not the round's: a round being cut short (by a user
 * action, say) does not cancel a download; a newer target that no longer needs it does (`cancelWhere`).
 * Operations are keyed by step id, so a step planned again while its operation still runs is not started
 * twice.
 */
import type { Step } from '../planner/index.js';
import { BosunError, toBosunError } from '../shared/errors.js';

/** How a long operation ended. `error` is undefined when it succeeded. */
export interface LongOperationOutcome {
  step: Step;
  status: 'ok' | 'failed' | 'cancelled';
  error: BosunError | undefined;
}

export type LongOperationListener = (outcome: LongOperationOutcome) => void;

interface Running {
  step: Step;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * A stop whose grace period is longer than the engine's default (10 s) may take that long when the
 * container ignores SIGTERM; shorter ones stay in the round (most services exit at once on SIGTERM).
 */
export const LONG_STOP_AFTER_SEC = 10;

/** Which steps run outside rounds: downloads, and stops with a long grace period. */
export function isLongStep(step: Step): boolean {
  if (step.kind === 'pullImage') return true;
  return step.kind === 'stopContainer' && step.timeoutSec > LONG_STOP_AFTER_SEC;
}

export class LongOperations {
  private readonly running = new Map<string, Running>();
  private readonly listeners = new Set<LongOperationListener>();

  /**
   * Starts `step` through `run` unless an operation for the same step id is already in flight. Never
   * throws and never waits: the outcome goes to the `onFinished` listeners.
   */
  start(step: Step, run: (signal: AbortSignal) => Promise<void>): void {
    if (this.running.has(step.id)) return;
    const controller = new AbortController();
    const done = (async (): Promise<void> => {
      let outcome: LongOperationOutcome;
      try {
        await run(controller.signal);
        outcome = { step, status: 'ok', error: undefined };
      } catch (err) {
        const error = toBosunError(err, 'APPLY_FAILED');
        outcome = controller.signal.aborted
          ? { step, status: 'cancelled', error: cancelledBy(controller.signal, error) }
          : { step, status: 'failed', error };
      }
      this.running.delete(step.id);
      for (const listener of [...this.listeners]) listener(outcome);
    })();
    this.running.set(step.id, { step, controller, done });
  }

  /** Steps whose operation is in flight, in start order. */
  inFlight(): Step[] {
    return [...this.running.values()].map((r) => r.step);
  }

  get size(): number {
    return this.running.size;
  }

  /** Aborts the operations whose step matches; resolves once they have ended. */
  async cancelWhere(matches: (step: Step) => boolean, reason: BosunError): Promise<void> {
    const victims = [...this.running.values()].filter((r) => matches(r.step));
    for (const r of victims) r.controller.abort(reason);
    await Promise.all(victims.map((r) => r.done));
  }

  cancelAll(reason: BosunError): Promise<void> {
    return this.cancelWhere(() => true, reason);
  }

  onFinished(listener: LongOperationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function cancelledBy(signal: AbortSignal, cause: BosunError): BosunError {
  const reason: unknown = signal.reason;
  if (reason instanceof BosunError && reason.code === 'CANCELLED') return reason;
  return new BosunError('CANCELLED', 'cancelled', { cause });
}
