/**
 * Steps that act on existing containers: stop, remove, rename, retire. Each remembers the step that
 * frees the container's name and removes it, and marks the update lock it needs; every step touching a
 * running container (or one whose service a user has locked) must run under the service's lock.
 */
import type { ContainerState } from '../domain/model.js';
import { isActive } from './app-view.js';
import { stepIds } from './ids.js';
import type { AppScope } from './scope.js';

const DEFAULT_STOP_TIMEOUT_SEC = 10;

function lockFor(scope: AppScope, c: ContainerState): string | undefined {
  return isActive(c) || scope.isUserLocked(c.serviceName) ? c.serviceName : undefined;
}

function stopTimeout(scope: AppScope, c: ContainerState): number {
  return scope.release?.services[c.serviceName]?.stopTimeoutSec ?? DEFAULT_STOP_TIMEOUT_SEC;
}

/** Stops (if needed) and removes a container; returns the id of the removal step. Idempotent per container. */
export function dispose(scope: AppScope, c: ContainerState, why: string): string {
  const known = scope.removedBy.get(c.id);
  if (known !== undefined) return known;
  const lock = lockFor(scope, c);
  const after: string[] = [];
  if (isActive(c)) after.push(stop(scope, c, [], why));
  const id = scope.out.add(
    {
      kind: 'removeContainer',
      id: stepIds.removeContainer(scope.uuid, c.serviceName, c.id),
      reason: `Remove container ${c.name}: ${why}.`,
      dependsOn: after,
      appUuid: scope.uuid,
      containerId: c.id,
      serviceName: c.serviceName,
    },
    lock,
  );
  scope.removedBy.set(c.id, id);
  scope.nameFreedBy.set(c.name, id);
  return id;
}

/** Stops a container and keeps it. */
export function stop(scope: AppScope, c: ContainerState, after: string[], why: string): string {
  return scope.out.add(
    {
      kind: 'stopContainer',
      id: stepIds.stopContainer(scope.uuid, c.serviceName, c.id),
      reason: `Stop container ${c.name}: ${why}.`,
      dependsOn: after,
      appUuid: scope.uuid,
      containerId: c.id,
      serviceName: c.serviceName,
      timeoutSec: stopTimeout(scope, c),
    },
    lockFor(scope, c),
  );
}

/**
 * Steps that must finish before a container may take `name`: none when the name is free (or already
 * the container's own), the step freeing it, or undefined when something the plan does not move holds it.
 */
export function waitForName(
  scope: AppScope,
  name: string,
  selfId: string | undefined,
): string[] | undefined {
  const holder = scope.world.containersByName.get(name);
  if (holder === undefined || holder.id === selfId) return [];
  const freedBy = scope.nameFreedBy.get(name);
  return freedBy === undefined ? undefined : [freedBy];
}

/** Commit-only change: give the container the new release's name, no restart. */
export function rename(
  scope: AppScope,
  c: ContainerState,
  newName: string,
  after: string[],
): string {
  const id = scope.out.add(
    {
      kind: 'renameContainer',
      id: stepIds.renameContainer(scope.uuid, c.serviceName, c.id),
      reason: `Rename ${c.name} to ${newName}: only the release changed, the container stays as it is.`,
      dependsOn: after,
      appUuid: scope.uuid,
      containerId: c.id,
      serviceName: c.serviceName,
      newName,
    },
    lockFor(scope, c),
  );
  scope.nameFreedBy.set(c.name, id);
  return id;
}

/**
 * Hand-over: rename the outgoing container `old_…` and set its restart policy to `no`, so the new one
 * can take the name and the old one does not come back if it exits. Returns undefined when the `old_…`
 * name is held by a container the plan does not move.
 */
export function retire(scope: AppScope, c: ContainerState): string | undefined {
  const newName = `old_${c.name}`;
  const after = waitForName(scope, newName, c.id);
  if (after === undefined) return undefined;
  const id = scope.out.add(
    {
      kind: 'retireContainer',
      id: stepIds.retireContainer(scope.uuid, c.serviceName, c.id),
      reason: `Retire ${c.name} as ${newName}: hand-over keeps it running until the new container takes over.`,
      dependsOn: after,
      appUuid: scope.uuid,
      containerId: c.id,
      serviceName: c.serviceName,
      newName,
    },
    lockFor(scope, c),
  );
  scope.nameFreedBy.set(c.name, id);
  return id;
}
