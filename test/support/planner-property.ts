/**
 * How the planner's property tests run (fast-check): each starts from a valid random target and a messy
 * current state (planner-arbitraries.ts), with whatever more the property needs, PROPERTY_RUNS times.
 */
import fc from 'fast-check';
import type { CurrentState, TargetState } from '../../src/domain/model.js';
import { arbCurrent, arbTarget, type MessyOptions } from './planner-arbitraries.js';

/** Runs per property: FC_NUM_RUNS, else 500. */
export const PROPERTY_RUNS = Number(process.env['FC_NUM_RUNS'] ?? 500);

export interface PlannerInput {
  target: TargetState;
  current: CurrentState;
  /** Images the agent pulled itself (its to remove). */
  pulled: string[];
}

export function arbPlannerInput(messy: MessyOptions): fc.Arbitrary<PlannerInput> {
  return fc
    .tuple(arbTarget, arbCurrent(messy))
    .map(([target, { current, pulled }]) => ({ target, current, pulled }));
}

/** Asserts `check` for PROPERTY_RUNS generated inputs, each with one value of every `extras`. */
export function assertPlannerProperty<Ts extends unknown[]>(
  messy: MessyOptions,
  extras: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  check: (input: PlannerInput, ...extras: Ts) => void,
): void {
  fc.assert(
    fc.property(arbPlannerInput(messy), fc.tuple<Ts>(...extras), (input, more) =>
      check(input, ...more),
    ),
    { numRuns: PROPERTY_RUNS },
  );
}
