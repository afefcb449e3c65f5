/**
 * Bringing a service's container into being: download its image, create it once the app's images, its
 * networks and volumes and its name are available, and start it once its dependencies allow.
 */
import type { ServiceTarget } from '../domain/model.js';
import { checkDependencies } from './dependencies.js';
import { stepIds } from './ids.js';
import type { AppScope, ServiceOutcome } from './scope.js';
import { waitForName } from './containers.js';

const WAITING: ServiceOutcome = { startStepId: undefined, container: undefined };

/** True when the image is on the engine; otherwise plans its download (after `after`) or explains the wait. */
export function ensureImage(scope: AppScope, s: ServiceTarget, after: string[]): boolean {
  if (scope.world.images.resolve(s.image) !== undefined) return true;
  const download = scope.world.current.downloads.find((d) => d.image === s.image);
  if (download !== undefined) {
    scope.out.block({
      kind: 'imageDownloading',
      appUuid: scope.uuid,
      serviceName: s.serviceName,
      image: s.image,
      progress: download.progress,
    });
    return false;
  }
  scope.out.add({
    kind: 'pullImage',
    id: stepIds.pullImage(s.image),
    reason: `Download ${s.image} for service ${s.serviceName}.`,
    dependsOn: after,
    appUuid: scope.uuid,
    image: s.image,
    serviceName: s.serviceName,
  });
  return false;
}

/** Creates the target container after `after` (and starts it when the target runs it). */
export function createAndStart(
  scope: AppScope,
  s: ServiceTarget,
  after: string[],
  why: string,
): ServiceOutcome {
  if (!ensureImage(scope, s, after)) return WAITING;
  if (!scope.appImagesReady()) {
    scope.out.block({
      kind: 'waitingForAllImages',
      appUuid: scope.uuid,
      serviceName: s.serviceName,
    });
    return WAITING;
  }
  const nameFree = waitForName(scope, s.containerName, undefined);
  if (nameFree === undefined) {
    scope.out.block({ kind: 'containerStopping', appUuid: scope.uuid, serviceName: s.serviceName });
    return WAITING;
  }
  const createId = scope.out.add({
    kind: 'createContainer',
    id: stepIds.createContainer(scope.uuid, s.serviceName, s.containerName),
    reason: `Create container ${s.containerName}: ${why}.`,
    dependsOn: [...after, ...nameFree, ...scope.prerequisites(s)],
    appUuid: scope.uuid,
    service: s,
  });
  if (!s.running) return WAITING;
  return startOrBlock(scope, s, s.containerName, [createId], scope.ctx.now);
}

/**
 * Starts the service's container (`ref` is its id, or its name when it is created or renamed in this
 * plan), unless a dependency is not ready or the service waits for a reboot.
 */
export function startOrBlock(
  scope: AppScope,
  s: ServiceTarget,
  ref: string,
  after: string[],
  createdAt: number,
): ServiceOutcome {
  const bootTime = scope.ctx.bootTime;
  if (s.requiresReboot && bootTime !== undefined && createdAt > bootTime) {
    scope.out.block({ kind: 'rebootRequired', appUuid: scope.uuid, serviceName: s.serviceName });
    return WAITING;
  }
  const deps = checkDependencies(scope, s);
  if (!deps.ready) {
    scope.out.block({
      kind: 'dependencyNotReady',
      appUuid: scope.uuid,
      serviceName: s.serviceName,
      dependency: deps.dependency,
      condition: deps.condition,
    });
    return WAITING;
  }
  const startStepId = scope.out.add({
    kind: 'startContainer',
    id: stepIds.startContainer(scope.uuid, s.serviceName, s.containerName),
    reason: `Start ${s.containerName}: the target runs service ${s.serviceName}.`,
    dependsOn: [...after, ...deps.after],
    appUuid: scope.uuid,
    containerId: ref,
    serviceName: s.serviceName,
  });
  return { startStepId, container: undefined };
}

/**
 * Download-then-kill and hand-over replace a running container only once the service's image and every
 * other target image of its app are on the engine; until then they wait (pulling what is missing).
 */
export function imagesReadyToReplace(scope: AppScope, s: ServiceTarget): boolean {
  if (!ensureImage(scope, s, [])) return false;
  if (scope.appImagesReady()) return true;
  scope.out.block({ kind: 'waitingForAllImages', appUuid: scope.uuid, serviceName: s.serviceName });
  return false;
}
