/** The planner's public surface. */
export { plan } from './plan.js';
export { renderPlan, renderBlocker } from './render.js';
export {
  planContext,
  type PlanContext,
  type BackoffEntry,
  type FailedPull,
  type LockWait,
  type StorageFacts,
} from './context.js';
export { userLockSignature } from './locks.js';
export { serviceOf } from './backoff.js';
export { stepIds, serviceKey } from './ids.js';
export { assertNever, type Step, type StepKind, type Blocker, type Plan } from './steps.js';
export {
  selectReleases,
  type ReleaseIdentity,
  type ReleaseVerdicts,
  type ReleaseSelection,
  type FailedReleaseVerdict,
} from './release-selection.js';
export { planLocalModeExit, type LocalModeExit } from './local-mode-exit.js';
export { planVolumeCleanup, type VolumeCleanup } from './volume-cleanup.js';
