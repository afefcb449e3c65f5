/**
 * Final shape of a plan: dependencies deduplicated and sorted, steps in a topological order (by depth
 * in the dependency graph, then id) so the same inputs always give the same plan, byte for byte.
 * Sorting by (depth, id) costs O(n log n) and any prefix of the list is runnable in order.
 */
import { BosunError } from '../shared/errors.js';
import type { Blocker, Step } from './steps.js';

export function orderSteps(steps: readonly Step[]): Step[] {
  const byId = new Map<string, Step>();
  for (const step of steps) {
    byId.set(step.id, { ...step, dependsOn: [...new Set(step.dependsOn)].sort() });
  }
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const depthOf = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) {
      throw new BosunError('INTERNAL', `planner produced a dependency cycle through step ${id}`);
    }
    visiting.add(id);
    const step = byId.get(id);
    let d = 0;
    for (const dep of step?.dependsOn ?? []) d = Math.max(d, depthOf(dep) + 1);
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  const ordered = [...byId.values()];
  for (const step of ordered) depthOf(step.id);
  return ordered.sort((a, b) => {
    const da = depth.get(a.id) ?? 0;
    const db = depth.get(b.id) ?? 0;
    if (da !== db) return da - db;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}

/** Blockers deduplicated and sorted by their content. */
export function orderBlockers(blockers: readonly Blocker[]): Blocker[] {
  const byKey = new Map<string, Blocker>();
  for (const b of blockers) byKey.set(blockerKey(b), b);
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, b]) => b);
}

function blockerKey(b: Blocker): string {
  // Key order is fixed by listing the fields, so the key does not depend on how the object was built.
  const fields = Object.keys(b).sort();
  return JSON.stringify(fields.map((f) => [f, (b as unknown as Record<string, unknown>)[f]]));
}
