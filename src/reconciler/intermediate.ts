/**
 * An intermediate target (a user action such as restart or purge) is applied until it has converged,
 * sleeping between attempts until the nearest blocker deadline (or the lock poll interval), and fails
 * once `timeoutMs` has passed without converging. A download in progress counts as progress: the action
 * waits for it, as it did when rounds held their pulls, and a download's end wakes it early.
 */
import type { LongOperations } from '../executor/long-operations.js';
import type { Clock } from '../shared/clock.js';
import { BosunError } from '../shared/errors.js';
import type { Outcome } from './rounds.js';

export interface IntermediateDeps {
  clock: Clock;
  operations: LongOperations;
  timeoutMs: number;
  lockPollMs: number;
}

export async function runIntermediate(
  deps: IntermediateDeps,
  apply: (signal: AbortSignal) => Promise<Outcome>,
  signal: AbortSignal,
): Promise<void> {
  const { clock } = deps;
  const deadline = clock.now() + deps.timeoutMs;
  for (;;) {
    const outcome = await apply(signal);
    if (outcome.kind === 'converged') return;
    const now = clock.now();
    const downloading = outcome.plan.blockers.every((b) => b.kind === 'imageDownloading');
    if (now >= deadline && !downloading)
      throw new BosunError(
        'APPLY_FAILED',
        `the action did not complete: ${outcome.plan.blockers.map((b) => b.kind).join(', ')}`,
      );
    const nextAt = Math.min(
      deadline,
      ...outcome.plan.blockers.map((b) => ('until' in b ? b.until : now + deps.lockPollMs)),
    );
    await sleepOrOperationEnd(deps, Math.max(1, nextAt - now), signal);
  }
}

/** Sleeps `ms`, or less when a long operation ends first. */
async function sleepOrOperationEnd(
  deps: IntermediateDeps,
  ms: number,
  signal: AbortSignal,
): Promise<void> {
  const controller = new AbortController();
  const abort = (): void => controller.abort(signal.reason);
  signal.addEventListener('abort', abort, { once: true });
  const off = deps.operations.onFinished(() => controller.abort());
  try {
    await deps.clock.sleep(ms, controller.signal);
  } catch (err) {
    if (signal.aborted) throw err;
  } finally {
    off();
    signal.removeEventListener('abort', abort);
  }
}
