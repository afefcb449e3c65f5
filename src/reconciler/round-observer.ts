/**
 * The reconciler's one outward hook for metrics and the dashboard: told what each round planned, how
 * long the round took, and how each step ended. Implementations only record (a counter, a reference to
 * the plan); they must not do I/O or throw, since they run inside the loop.
 */
import type { StepStatus } from '../executor/execute-plan.js';
import type { Plan, StepKind } from '../planner/index.js';

export interface RoundObserver {
  /** A round planned; called before its steps run. */
  planned(plan: Plan): void;
  /** A round ended: its steps ran, or it had none. */
  roundEnded(durationMs: number): void;
  stepEnded(kind: StepKind, outcome: StepStatus): void;
}

export const noRoundObserver: RoundObserver = {
  planned: () => undefined,
  roundEnded: () => undefined,
  stepEnded: () => undefined,
};

/** Tells every observer, in order. */
export function roundObservers(...observers: readonly RoundObserver[]): RoundObserver {
  return {
    planned: (plan) => observers.forEach((o) => o.planned(plan)),
    roundEnded: (ms) => observers.forEach((o) => o.roundEnded(ms)),
    stepEnded: (kind, outcome) => observers.forEach((o) => o.stepEnded(kind, outcome)),
  };
}
