/**
 * `depends_on` ordering. Services are planned dependencies first, so a dependent knows whether its
 * dependency is already up, starts this round (a `service_started` dependent then chains its start on
 * the dependency's start step, converging in one round), or is not ready (a `dependencyNotReady` blocker:
 * health and exit codes can only be observed, never ordered).
 */
import type { ContainerState, DependencyCondition, ServiceTarget } from '../domain/model.js';
import type { AppScope } from './scope.js';

/** Dependencies before dependents (ties by name); services in a cycle come last, in name order. */
export function serviceOrder(services: Readonly<Record<string, ServiceTarget>>): {
  order: string[];
  cyclic: string[];
} {
  const names = Object.keys(services).sort();
  const remaining = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const name of names) {
    const deps = Object.keys(services[name]?.dependsOn ?? {}).filter((d) => d in services);
    remaining.set(name, deps.length);
    for (const dep of deps) dependents.set(dep, [...(dependents.get(dep) ?? []), name]);
  }
  const order: string[] = [];
  let ready = names.filter((n) => remaining.get(n) === 0);
  while (ready.length > 0) {
    const next: string[] = [];
    for (const name of ready) {
      order.push(name);
      for (const dependent of dependents.get(name) ?? []) {
        const left = (remaining.get(dependent) ?? 0) - 1;
        remaining.set(dependent, left);
        if (left === 0) next.push(dependent);
      }
    }
    ready = next.sort();
  }
  const placed = new Set(order);
  return { order, cyclic: names.filter((n) => !placed.has(n)) };
}

export type DependencyCheck =
  { ready: true; after: string[] } | { ready: false; dependency: string; condition: string };

/** Whether `s` may start now, and after which steps of this round. */
export function checkDependencies(scope: AppScope, s: ServiceTarget): DependencyCheck {
  const after: string[] = [];
  for (const dependency of Object.keys(s.dependsOn).sort()) {
    const condition = s.dependsOn[dependency] as DependencyCondition;
    const outcome = scope.outcomes.get(dependency);
    if (outcome?.startStepId !== undefined && condition === 'service_started') {
      after.push(outcome.startStepId);
      continue;
    }
    const container = outcome?.startStepId === undefined ? outcome?.container : undefined;
    if (container === undefined || !conditionMet(container, condition)) {
      return { ready: false, dependency, condition };
    }
    if (outcome?.renamedBy !== undefined) after.push(outcome.renamedBy);
  }
  return { ready: true, after };
}

function conditionMet(c: ContainerState, condition: DependencyCondition): boolean {
  switch (condition) {
    case 'service_started':
      // Compose only asks that it was started: a one-shot dependency that already finished counts.
      return c.startedAt !== undefined && c.status !== 'created';
    case 'service_healthy':
      // No healthcheck ('none'): running is the best evidence there is (normalisation warns about it).
      return c.status === 'running' && (c.health === 'healthy' || c.health === 'none');
    case 'service_completed_successfully':
      return c.status === 'exited' && c.exitCode === 0;
  }
}
