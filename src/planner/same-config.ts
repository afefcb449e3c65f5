/**
 * A container whose config and image already match the target: at most a rename (commit-only change)
 * and a start or stop. It is never recreated.
 */
import type { ContainerState, ServiceTarget } from '../domain/model.js';
import { isActive, timeOf } from './app-view.js';
import { rename, stop, waitForName } from './containers.js';
import { startOrBlock } from './create.js';
import type { AppScope, ServiceOutcome } from './scope.js';

/**
 * Whether we start a container that is not running. A container never started (`created`) is. One
 * that exited is left to its restart policy, which owns exits (docs/protocol.md#config-comparison), except
 * under `always` or `unless-stopped`: those policies restart any exit on their own, so an exited container
 * under them was stopped on purpose (e.g. by us for `running: false`) and a target that runs it again starts
 * it.
 */
export function shouldStart(c: ContainerState): boolean {
  if (c.status === 'created') return true;
  return (
    c.status === 'exited' && (c.restartPolicy === 'always' || c.restartPolicy === 'unless-stopped')
  );
}

export function keepContainer(
  scope: AppScope,
  s: ServiceTarget,
  c: ContainerState,
  extrasGone: string[],
): ServiceOutcome {
  const settled: ServiceOutcome = { startStepId: undefined, container: c };
  // A created container may wait for a network or volume created this round (e.g. after it was pruned).
  let after = [...extrasGone, ...scope.prerequisites(s)];
  if (c.name !== s.containerName) {
    // download-then-kill moves the whole app to the new release together, once all its images are here.
    if (s.updateStrategy === 'download-then-kill' && !scope.appImagesReady()) {
      scope.out.block({
        kind: 'waitingForAllImages',
        appUuid: scope.uuid,
        serviceName: s.serviceName,
      });
      return settled;
    }
    const nameFree = waitForName(scope, s.containerName, c.id);
    if (nameFree === undefined) {
      scope.out.block({
        kind: 'containerStopping',
        appUuid: scope.uuid,
        serviceName: s.serviceName,
      });
      return settled;
    }
    settled.renamedBy = rename(scope, c, s.containerName, nameFree);
    after = [...after, settled.renamedBy];
  }
  if (s.running && shouldStart(c)) {
    const started = startOrBlock(scope, s, c.id, after, timeOf(c.createdAt));
    return { ...settled, startStepId: started.startStepId };
  }
  if (!s.running && isActive(c))
    stop(scope, c, after, `the target has running: false for ${s.serviceName}`);
  return settled;
}
