/**
 * Steps are data: the planner emits them, the executor runs them and decides nothing. Every step has a
 * content-derived `id` (stable across runs for the same inputs), a human `reason`, and `dependsOn`
 * (ids of steps in the same plan that must succeed first). Waiting is never a step: see Blocker.
 * Every switch over Step.kind must end in an exhaustiveness check (`assertNever`).
 */
import type { SupervisorNetworkSpec } from '../domain/context.js';
import type { NetworkTarget, ServiceTarget, VolumeTarget } from '../domain/model.js';

interface StepBase {
  id: string;
  reason: string;
  dependsOn: string[];
  /** App the step belongs to (undefined for device-wide steps such as image clean-up). */
  appUuid: string | undefined;
}

export type Step =
  | (StepBase & { kind: 'pullImage'; image: string; serviceName: string })
  | (StepBase & { kind: 'removeImage'; image: string; engineImageId: string })
  | (StepBase & { kind: 'createNetwork'; network: NetworkTarget })
  | (StepBase & { kind: 'removeNetwork'; engineName: string })
  | (StepBase & { kind: 'createVolume'; volume: VolumeTarget })
  | (StepBase & { kind: 'removeVolume'; engineName: string })
  /** Take the app's update locks for these services (fails with UPDATES_LOCKED if a user holds one, unless force). */
  | (StepBase & { kind: 'takeLock'; appId: number; services: string[]; force: boolean })
  | (StepBase & { kind: 'releaseLock'; appId: number })
  /** Create the container for a target service (not started). */
  | (StepBase & { kind: 'createContainer'; service: ServiceTarget })
  /**
   * `containerId` is the engine id, or the container's name when it is created or renamed earlier in
   * the same plan (the engine accepts either; the id is not known when planning).
   */
  | (StepBase & { kind: 'startContainer'; containerId: string; serviceName: string })
  | (StepBase & {
      kind: 'stopContainer';
      containerId: string;
      serviceName: string;
      timeoutSec: number;
    })
  | (StepBase & { kind: 'removeContainer'; containerId: string; serviceName: string })
  /** Commit-only change: rename to the new release's name instead of recreating. */
  | (StepBase & {
      kind: 'renameContainer';
      containerId: string;
      serviceName: string;
      newName: string;
    })
  /** Hand-over: mark the outgoing container (rename to old_…, restart policy `no`) before the new one starts. */
  | (StepBase & {
      kind: 'retireContainer';
      containerId: string;
      serviceName: string;
      newName: string;
    })
  /** Record that the app now fully runs this commit. */
  | (StepBase & { kind: 'recordCommit'; commit: string })
  /** Device-wide: create the network services with the supervisor API reach the local API through. */
  | (StepBase & { kind: 'createSupervisorNetwork'; network: SupervisorNetworkSpec })
  /** Kill and remove at once, no grace period (leaving local mode: the developer's app goes). */
  | (StepBase & { kind: 'discardContainer'; containerId: string; serviceName: string });

export type StepKind = Step['kind'];

export type Blocker =
  | {
      kind: 'imageDownloading';
      appUuid: string;
      serviceName: string;
      image: string;
      progress: number | undefined;
    }
  | {
      kind: 'dependencyNotReady';
      appUuid: string;
      serviceName: string;
      dependency: string;
      condition: string;
    }
  | { kind: 'locked'; appUuid: string; serviceName: string }
  /** `appUuid` is undefined for device-wide steps (image clean-up). */
  | {
      kind: 'backoff';
      appUuid: string | undefined;
      serviceName: string | undefined;
      stepId: string;
      until: number;
      error: string;
    }
  | { kind: 'handoverPending'; appUuid: string; serviceName: string; until: number }
  | { kind: 'waitingForAllImages'; appUuid: string; serviceName: string }
  | { kind: 'containerStopping'; appUuid: string; serviceName: string }
  | { kind: 'rebootRequired'; appUuid: string; serviceName: string }
  /** A network or volume must go, but containers the plan cannot remove this round still use it. */
  | { kind: 'resourceInUse'; appUuid: string; resource: string; usedBy: string[] }
  /**
   * The app's downloads do not fit on the engine's data root with the reserve kept free, even after what
   * may be removed first: nothing of the app changes (no step of it is planned) until there is room.
   * One per service whose image is missing; the byte counts are the app's.
   */
  | {
      kind: 'insufficientStorage';
      appUuid: string;
      serviceName: string;
      image: string;
      /** Estimated bytes the app's missing images need on disk. */
      bytesNeeded: number;
      /** Bytes free on the data root when planned (the reserve included). */
      bytesFree: number;
      /** Bytes kept free (SUPERVISOR_DISK_RESERVE). */
      bytesReserved: number;
    }
  /** Stopping or replacing this running service waits for the update window, which opens at `until`. */
  | { kind: 'outsideUpdateWindow'; appUuid: string; serviceName: string; until: number };

export interface Plan {
  steps: Step[];
  blockers: Blocker[];
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
