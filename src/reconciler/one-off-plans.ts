/**
 * One-off plans: work asked for once rather than a target to converge on (leaving local mode, volume
 * clean-up). The planner builds the plan from a fresh observation and the executor runs it, as in a
 * round, but once and exclusively (the loop runs it between rounds): what failed is reported to the
 * caller, which decides, rather than backed off and retried. Nothing here touches the engine itself.
 */
import type { CurrentState } from '../domain/model.js';
import { executePlan, type StepOutcome } from '../executor/execute-plan.js';
import type { StepRunContext, StepRunner } from '../executor/step-runner.js';
import type { Plan, Step } from '../planner/index.js';
import type { Logger } from '../shared/logger.js';
import type { StepListener } from './rounds.js';

/** Builds the plan from the observation; may read more facts first (reads only, never changes). */
export type BuildPlan = (current: CurrentState) => Promise<Plan> | Plan;

export interface OneOffDeps {
  observer: { observe(): Promise<CurrentState>; noteStep?(step: Step): void };
  runner: StepRunner;
  concurrency: number;
  log: Logger;
  stepListener?: StepListener | undefined;
}

/** No app is being updated: no locks to force, no commits to record against. */
const ONE_OFF_CONTEXT: StepRunContext = {
  appIds: new Map(),
  targetCommits: new Map(),
  forceLocks: false,
  staleLocks: new Set(),
};

export async function runOneOffPlan(
  deps: OneOffDeps,
  build: BuildPlan,
  signal: AbortSignal,
): Promise<StepOutcome[]> {
  const current = await deps.observer.observe();
  const plan = await build(current);
  if (plan.steps.length === 0) return [];
  deps.log.info('reconciler.one-off-plan', { steps: plan.steps.map((s) => s.id) });
  const result = await executePlan(
    plan.steps,
    (step, stepSignal) => deps.runner.run(step, stepSignal, ONE_OFF_CONTEXT),
    {
      concurrency: deps.concurrency,
      signal,
      onStepStart: (step) => deps.stepListener?.stepStarted(step, current),
      onStepEnd: (outcome) => {
        // What the step changed is not in the observer's held lists any more.
        deps.observer.noteStep?.(outcome.step);
        deps.stepListener?.stepEnded(outcome, current);
      },
    },
  );
  return result.outcomes;
}
