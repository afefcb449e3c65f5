/**
 * Withholding work: when a step cannot run this round (backed off, locked, missing prerequisite), every
 * step that depends on it, directly or not, is withheld too, so the executor never runs work whose
 * ordering guarantee is gone.
 */
import type { Draft } from './draft.js';

/** Removes `victims` and their transitive dependents from `drafts`; returns every removed id. */
export function withhold(drafts: Map<string, Draft>, victims: Iterable<string>): Set<string> {
  const dependents = new Map<string, string[]>();
  for (const { step } of drafts.values()) {
    for (const dep of step.dependsOn) {
      const list = dependents.get(dep);
      if (list) list.push(step.id);
      else dependents.set(dep, [step.id]);
    }
  }
  const removed = new Set<string>();
  const queue = [...victims];
  while (queue.length > 0) {
    const id = queue.pop() as string;
    if (removed.has(id)) continue;
    removed.add(id);
    drafts.delete(id);
    for (const next of dependents.get(id) ?? []) queue.push(next);
  }
  return removed;
}

/** Withholds steps that depend on a step not in the plan (their prerequisite was itself withheld). */
export function withholdDangling(drafts: Map<string, Draft>): Set<string> {
  const dangling: string[] = [];
  for (const { step } of drafts.values()) {
    if (step.dependsOn.some((dep) => !drafts.has(dep))) dangling.push(step.id);
  }
  return withhold(drafts, dangling);
}
