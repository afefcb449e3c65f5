/**
 * A step that "succeeds" without changing what the observer sees is planned again and again: the engine
 * answered yes (an "already exists" taken as success, say) but the next observation still lacks the
 * effect, so the plan never converges. Left alone that is a silent loop. This tracker notices it per
 * step: a step planned again right after succeeding, `limit` rounds in a row, is turned into a failure
 * with a clear error (so it is logged, said as a system line and backed off like any failed step, and the
 * rest of the plan goes on). Once caught, one more effect-less success is enough to fail it again, so
 * its backoff keeps growing instead of starting over.
 *
 * Lock steps are left out: taking and releasing update locks may rightly recur round after round.
 */
import type { StepOutcome } from '../executor/execute-plan.js';
import type { Step } from '../planner/steps.js';
import { BosunError } from '../shared/errors.js';

const MAX_CAUGHT = 1_000;
const RECURRING_KINDS = new Set<Step['kind']>(['takeLock', 'releaseLock']);

export class NoEffectTracker {
  /** Step id → rounds in a row it succeeded and was planned again. */
  private readonly streaks = new Map<string, number>();
  /** Step ids caught once already (until they take effect). */
  private readonly caught = new Set<string>();
  /** Step ids that succeeded in the last round. */
  private lastSucceeded = new Set<string>();

  constructor(private readonly limit: number) {}

  /**
   * This round's plan: the steps to fail instead of running, because their earlier successes had no
   * visible effect. Steps of the last round that are not planned again took effect and are forgotten.
   */
  planned(steps: readonly Step[]): StepOutcome[] {
    const plannedIds = new Set(steps.map((s) => s.id));
    // Succeeded last round and not planned again: it took effect. (A step merely held back by its
    // backoff is not planned either, but it did not run last round, so it is not forgotten.)
    for (const id of this.lastSucceeded)
      if (!plannedIds.has(id)) {
        this.streaks.delete(id);
        this.caught.delete(id);
      }
    const failing: StepOutcome[] = [];
    for (const step of steps) {
      if (!this.lastSucceeded.has(step.id)) {
        this.streaks.delete(step.id);
        continue;
      }
      const streak = (this.streaks.get(step.id) ?? 0) + 1;
      this.streaks.set(step.id, streak);
      if (streak < this.limit && !this.caught.has(step.id)) continue;
      if (this.caught.size >= MAX_CAUGHT) this.caught.clear(); // bounded; worst case N more rounds
      this.caught.add(step.id);
      this.streaks.delete(step.id);
      failing.push({
        step,
        status: 'failed',
        error: new BosunError(
          'APPLY_FAILED',
          `${step.kind} ${step.id} succeeded but had no effect the engine shows (planned again ${streak} time(s) right after succeeding): held back`,
        ),
      });
    }
    this.lastSucceeded = new Set();
    return failing;
  }

  /** This round's outcomes. */
  ran(outcomes: readonly StepOutcome[]): void {
    this.lastSucceeded = new Set(
      outcomes
        .filter((o) => o.status === 'ok' && !RECURRING_KINDS.has(o.step.kind))
        .map((o) => o.step.id),
    );
  }
}
