/**
 * Which system log line (docs/protocol.md#system-log-messages) a step's start, success or failure
 * produces, so users see `Installing service 'web sha256:…'`, `Killed service …`,
 * `Failed to download image … due to '…'` in the log stream. Pure: the step system log
 * (step-system-log.ts) calls it for every step outcome and hands the result to the SystemLogger port.
 *
 * Naming follows balena-supervisor: a service is `<serviceName> <config.image>`, and balena-supervisor
 * replaces `config.image` by the engine image id once the image is on the device
 * (docs/protocol.md#image-identity), so a service is shown with its `sha256:…` id whenever it is known, else
 * by reference; an image by its reference; a network or volume by its name in the compose file.
 */
import type { CurrentState } from '../domain/model.js';
import type { SystemEvent, SystemEventSubject } from '../logs/system-logger.js';
import { assertNever, type Step } from '../planner/index.js';

export type StepPhase = 'start' | 'ok' | 'failed';

export interface StepSystemEvent {
  event: SystemEvent;
  /** Absent for lock events, which balena words without an object. */
  subject: SystemEventSubject | undefined;
}

/** How services' images are named: engine ids of containers and of image references, when known. */
export interface ImageNaming {
  /** The engine image id of a container, by engine id or name. */
  containerImage(ref: string): string | undefined;
  /** The engine image id of an image reference present on the device. */
  imageId(reference: string): string | undefined;
}

/** What one observation knows about images. */
export function namingFrom(current: CurrentState): ImageNaming {
  return {
    containerImage: (ref) =>
      current.containers.find((c) => c.id === ref || c.name === ref)?.engineImageId,
    imageId: (reference) =>
      current.images.find(
        (i) =>
          i.id === reference || i.repoTags.includes(reference) || i.repoDigests.includes(reference),
      )?.id,
  };
}

type Words = readonly [
  start: SystemEvent | undefined,
  ok: SystemEvent | undefined,
  failed: SystemEvent | undefined,
];

export function stepSystemEvent(
  step: Step,
  phase: StepPhase,
  naming: ImageNaming,
): StepSystemEvent | undefined {
  const pick = (words: Words, subject?: SystemEventSubject): StepSystemEvent | undefined => {
    const event = words[phase === 'start' ? 0 : phase === 'ok' ? 1 : 2];
    return event === undefined ? undefined : { event, subject };
  };
  // `<appUuid>_<name>` / `<appId>_<name>` → the compose name, as balena words removals too.
  const logical = (engineName: string): string => engineName.slice(engineName.indexOf('_') + 1);
  switch (step.kind) {
    case 'pullImage':
      return pick(['imageDownload', 'imageDownloaded', 'imageDownloadError'], { name: step.image });
    case 'removeImage':
      return pick(['imageRemoval', 'imageRemoved', 'imageRemovalError'], { name: step.image });
    case 'createNetwork':
      return pick(['networkCreate', undefined, 'networkCreateError'], { name: step.network.name });
    case 'removeNetwork':
      return pick(['networkRemove', undefined, 'networkRemoveError'], {
        name: logical(step.engineName),
      });
    case 'createVolume':
      return pick(['volumeCreate', undefined, 'volumeCreateError'], { name: step.volume.name });
    case 'removeVolume':
      return pick(['volumeRemove', undefined, 'volumeRemoveError'], {
        name: logical(step.engineName),
      });
    case 'takeLock':
      return pick(['takeLock', undefined, undefined]);
    case 'releaseLock':
      return pick(['releaseLock', undefined, undefined]);
    case 'createContainer':
      return pick(['serviceInstall', 'serviceInstalled', 'serviceInstallError'], {
        serviceName: step.service.serviceName,
        image: naming.imageId(step.service.image) ?? step.service.image,
      });
    case 'startContainer':
      return pick(['serviceStart', 'serviceStarted', 'serviceStartError'], {
        serviceName: step.serviceName,
        image: naming.containerImage(step.containerId) ?? '',
      });
    case 'stopContainer':
      return pick(['serviceKill', 'serviceStop', 'serviceStopError'], {
        serviceName: step.serviceName,
        image: naming.containerImage(step.containerId) ?? '',
      });
    case 'discardContainer':
      return pick(['serviceKill', 'serviceStop', 'serviceStopError'], {
        serviceName: step.serviceName,
        image: naming.containerImage(step.containerId) ?? '',
      });
    case 'removeContainer':
    case 'renameContainer':
    case 'retireContainer':
    case 'recordCommit':
    case 'createSupervisorNetwork':
      return undefined;
    default:
      return assertNever(step);
  }
}
