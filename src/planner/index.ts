/** The planner's public surface. */
export { plan } from './plan.js';
export { renderPlan, renderBlocker } from './render.js';
export { planContext, type PlanContext, type BackoffEntry, type FailedPull } from './context.js';
export { stepIds, serviceKey } from './ids.js';
export type { Step, StepKind, Blocker, Plan } from './steps.js';
