/** The reconciler's hook for health-gated rollback (implemented by rollback/release-guard.ts). */
import type { CurrentState, TargetState } from '../domain/model.js';
import type { ReleaseCheckView } from './status.js';
import type { Plan } from '../planner/index.js';

/** Fed each round of the real target. */
export interface ReleaseChecks {
  /** One observation, with the target it was planned for and the plan; must not throw or block. */
  observed(target: TargetState, current: CurrentState, plan: Plan): void;
  /** Image references clean-up must keep (the last confirmed releases). */
  protectedImages(): readonly string[];
  view(): ReadonlyMap<string, ReleaseCheckView>;
}
