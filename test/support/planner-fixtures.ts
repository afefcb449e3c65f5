/** Shared fixtures for planner scenario tests: two releases of app A, one of app B, and plan helpers. */
import type { CurrentState, TargetState } from '../../src/domain/model.js';
import { type PlanContext, planContext } from '../../src/planner/context.js';
import { plan } from '../../src/planner/plan.js';
import type { Plan, Step, StepKind } from '../../src/planner/steps.js';
import { APP_A, APP_B, type ReleaseIdentity } from './planner-builders.js';

export const NOW = 1_000_000;
export const R1: ReleaseIdentity = { app: APP_A, commit: 'c1', releaseId: 1 };
export const R2: ReleaseIdentity = { app: APP_A, commit: 'c2', releaseId: 2 };
export const B1: ReleaseIdentity = { app: APP_B, commit: 'b1', releaseId: 11 };
export const B2: ReleaseIdentity = { app: APP_B, commit: 'b2', releaseId: 12 };

export interface Scenario {
  name: string;
  target: TargetState;
  current: CurrentState;
  ctx?: Partial<PlanContext>;
  /** Behaviour the plan must show (beyond matching its golden file). */
  expect: (p: Plan) => void;
}

export function run(s: Pick<Scenario, 'target' | 'current' | 'ctx'>): Plan {
  return plan(s.target, s.current, planContext(NOW, s.ctx));
}

export function ids(p: Plan): string[] {
  return p.steps.map((s) => s.id);
}

export function kinds(p: Plan): StepKind[] {
  return p.steps.map((s) => s.kind);
}

export function stepsOf<K extends StepKind>(p: Plan, kind: K): Extract<Step, { kind: K }>[] {
  return p.steps.filter((s): s is Extract<Step, { kind: K }> => s.kind === kind);
}

export function step(p: Plan, id: string): Step {
  const found = p.steps.find((s) => s.id === id);
  if (found === undefined)
    throw new Error(`no step ${id} in plan:\n${p.steps.map((s) => s.id).join('\n')}`);
  return found;
}

/** Every step `id` depends on, directly or not. */
export function ancestors(p: Plan, id: string): Set<string> {
  const byId = new Map(p.steps.map((s) => [s.id, s]));
  const out = new Set<string>();
  const queue = [...(byId.get(id)?.dependsOn ?? [])];
  while (queue.length > 0) {
    const next = queue.pop() as string;
    if (out.has(next)) continue;
    out.add(next);
    queue.push(...(byId.get(next)?.dependsOn ?? []));
  }
  return out;
}
