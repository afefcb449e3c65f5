/**
 * Which system log line (reference §12.3) a step's start, success or failure produces, so users see
 * `Installing service 'web sha256:…'`, `Killed service …`, `Failed to download image … due to '…'`
 * in the log stream. Pure: the reconciler calls it from its step hooks and hands the result to the
 * SystemLogger port. Services are shown as `<serviceName> <engine image id>` when the image is known
 * locally, as balena-supervisor does once an image is present, else by reference.
 */
import type { CurrentState } from '../domain/model.js';
import type { SystemEvent, SystemEventSubject } from '../logs/system-logger.js';
import { assertNever, type Step } from '../planner/steps.js';

export type StepPhase = 'start' | 'ok' | 'failed';

export interface StepSystemEvent {
  event: SystemEvent;
  /** Absent for lock events, which balena words without an object. */
  subject: SystemEventSubject | undefined;
}

type Words = readonly [
  start: SystemEvent | undefined,
  ok: SystemEvent | undefined,
  failed: SystemEvent | undefined,
];

export function stepSystemEvent(
  step: Step,
  phase: StepPhase,
  current: CurrentState,
): StepSystemEvent | undefined {
  const pick = (words: Words, subject?: SystemEventSubject): StepSystemEvent | undefined => {
    const event = words[phase === 'start' ? 0 : phase === 'ok' ? 1 : 2];
    return event === undefined ? undefined : { event, subject };
  };
  const container = (id: string): string | undefined =>
    current.containers.find((c) => c.id === id)?.engineImageId;
  const imageId = (reference: string): string =>
    current.images.find((i) => i.repoTags.includes(reference) || i.repoDigests.includes(reference))
      ?.id ?? reference;
  switch (step.kind) {
    case 'pullImage':
      return pick(['imageDownload', 'imageDownloaded', 'imageDownloadError'], { name: step.image });
    case 'removeImage':
      return pick(['imageRemoval', 'imageRemoved', 'imageRemovalError'], { name: step.image });
    case 'createNetwork':
      return pick(['networkCreate', undefined, 'networkCreateError'], { name: step.network.name });
    case 'removeNetwork':
      return pick(['networkRemove', undefined, 'networkRemoveError'], { name: step.engineName });
    case 'createVolume':
      return pick(['volumeCreate', undefined, 'volumeCreateError'], { name: step.volume.name });
    case 'removeVolume':
      return pick(['volumeRemove', undefined, 'volumeRemoveError'], { name: step.engineName });
    case 'takeLock':
      return pick(['takeLock', undefined, undefined]);
    case 'releaseLock':
      return pick(['releaseLock', undefined, undefined]);
    case 'createContainer':
      return pick(['serviceInstall', 'serviceInstalled', 'serviceInstallError'], {
        serviceName: step.service.serviceName,
        image: imageId(step.service.image),
      });
    case 'startContainer':
      return pick(['serviceStart', 'serviceStarted', 'serviceStartError'], {
        serviceName: step.serviceName,
        image: container(step.containerId) ?? '',
      });
    case 'stopContainer':
      return pick(['serviceKill', 'serviceStop', 'serviceStopError'], {
        serviceName: step.serviceName,
        image: container(step.containerId) ?? '',
      });
    case 'removeContainer':
    case 'renameContainer':
    case 'retireContainer':
    case 'recordCommit':
      return undefined;
    default:
      return assertNever(step);
  }
}
