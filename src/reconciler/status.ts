/**
 * What the reconciler tells the API and the cloud report: one status per app (`update_status` as in
 * docs/protocol.md#report-body) and per service (the report's service status words, plus why it waits).
 * Computed by a pure function from the last observation, the last plan, the downloads and the failures, so it
 * is the same whoever asks.
 */
import { serviceKey, type ServiceKey } from '../domain/keys.js';
import type { ContainerState, CurrentState, DownloadState, TargetState } from '../domain/model.js';
import type { Blocker, Plan } from '../planner/index.js';

export type AppState = 'applying' | 'applied';
export type UpdateStatus =
  'rejected' | 'downloading' | 'downloaded' | 'applying changes' | 'aborted' | 'done';

/**
 * Report-compatible service status words (docs/protocol.md#report-body), engine states passed through
 * lower-case.
 */
export type ServiceStatusWord =
  | 'Downloading'
  | 'Downloaded'
  | 'Installing'
  | 'Installed'
  | 'Starting'
  | 'Running'
  | 'Stopping'
  | 'Stopped'
  | 'Dead'
  | 'Handing over'
  | 'Awaiting handover'
  /** The release's downloads do not fit on the disk (an `insufficientStorage` blocker): not a reference word. */
  | 'Insufficient storage'
  | 'exited'
  | 'paused'
  | 'restarting'
  | 'removing';

export type WaitReason =
  | { kind: 'dependency'; dependency: string; condition: string }
  | { kind: 'locked' }
  | { kind: 'backoff'; until: number; error: string }
  | { kind: 'images' }
  | { kind: 'handover'; until: number }
  | { kind: 'stopping' }
  | { kind: 'reboot' }
  | { kind: 'resourceInUse'; resource: string }
  | { kind: 'storage'; bytesNeeded: number; bytesFree: number; bytesReserved: number }
  /** Epoch ms the update window opens. */
  | { kind: 'updateWindow'; until: number };

export interface ServiceStatus {
  serviceName: string;
  /** Target image reference (or the current container's image when the service is being removed). */
  image: string | undefined;
  status: ServiceStatusWord;
  containerId: string | undefined;
  /** 0..100 while downloading. */
  downloadProgress: number | undefined;
  /** Why the service is not yet where the target wants it. */
  waitingFor: WaitReason | undefined;
  /** The last error the engine gave for this service's work, while it still matters. */
  error: string | undefined;
}

/** What the status says about an app's release check. */
export interface ReleaseCheckView {
  /** The release that failed its window and why; `rolledBackTo` when an older one runs instead. */
  failed?: {
    commit: string;
    reason: string;
    service: string | undefined;
    cause: 'unhealthy' | 'crashLoop' | 'notRunning';
    at: number;
    rolledBackTo: string | undefined;
    /** The failed release's raw service images by name, as the cloud sent them (for the report). */
    images: Readonly<Record<string, string>>;
  };
  /** The release being watched now, and when its window ends. */
  watching?: { commit: string; until: number };
  /** The last release confirmed healthy. */
  confirmed?: { commit: string; images: Readonly<Record<string, string>> };
}

export interface AppStatus {
  appUuid: string;
  appId: number;
  name: string;
  targetCommit: string | undefined;
  currentCommit: string | undefined;
  updateStatus: UpdateStatus;
  services: Record<string, ServiceStatus>;
  /** Health-gated rollback: the release check of this app, when there is one. */
  releaseCheck?: ReleaseCheckView;
}

export type Phase =
  'starting' | 'applying' | 'waiting-for-engine' | 'blocked' | 'converged' | 'failed' | 'stopped';

export interface ReconcileStatus {
  appState: AppState;
  phase: Phase;
  /** Rounds (observe → plan → execute) since the agent started. */
  rounds: number;
  lastAppliedAt: number | undefined;
  /** Set when the last apply failed as a whole (e.g. a malformed stored target, an engine outage). */
  lastError: string | undefined;
  /**
   * When the reconciler last showed progress: a round, a step, a phase change or download progress
   * (the health check's stuck-round bound counts from here).
   */
  lastProgressAt: number | undefined;
  apps: Record<string, AppStatus>;
}

export interface StatusInputs {
  target: TargetState | undefined;
  current: CurrentState | undefined;
  plan: Plan | undefined;
  downloads: readonly DownloadState[];
  /** Services the executor is acting on right now. */
  acting: ReadonlyMap<ServiceKey, 'Installing' | 'Starting' | 'Stopping'>;
  /** Last step error per service. */
  errors: ReadonlyMap<ServiceKey, string>;
  applying: boolean;
  phase: Phase;
  rounds: number;
  lastAppliedAt: number | undefined;
  lastError: string | undefined;
  lastProgressAt?: number | undefined;
  /** Health-gated rollback, per app uuid. */
  releaseChecks?: ReadonlyMap<string, ReleaseCheckView> | undefined;
}

export function computeStatus(inputs: StatusInputs): ReconcileStatus {
  const apps: Record<string, AppStatus> = {};
  const { target, current, plan } = inputs;
  for (const app of Object.values(target?.apps ?? {})) {
    const release = app.release;
    const containers = (current?.containers ?? []).filter((c) => c.appUuid === app.uuid);
    const services: Record<string, ServiceStatus> = {};
    const names = new Set([
      ...Object.keys(release?.services ?? {}),
      ...containers.map((c) => c.serviceName),
    ]);
    for (const serviceName of names) {
      const key = serviceKey(app.uuid, serviceName);
      const serviceTarget = release?.services[serviceName];
      const own = containers.filter((c) => c.serviceName === serviceName);
      const newest = pickNewest(own.filter((c) => !c.handoverOld)) ?? pickNewest(own);
      const image = serviceTarget?.image ?? newest?.engineImageId;
      const download =
        image === undefined ? undefined : inputs.downloads.find((d) => d.image === image);
      const blocker = plan?.blockers.find(
        (b) => 'serviceName' in b && b.appUuid === app.uuid && b.serviceName === serviceName,
      );
      const pulling =
        plan?.steps.some(
          (s) => s.kind === 'pullImage' && s.appUuid === app.uuid && s.serviceName === serviceName,
        ) ?? false;
      const handingOver = own.some((c) => c.handoverOld) && own.some((c) => !c.handoverOld);
      let status: ServiceStatusWord;
      const acting = inputs.acting.get(key);
      const imageMissing =
        image !== undefined &&
        current !== undefined &&
        !current.images.some(
          (i) => i.id === image || i.repoTags.includes(image) || i.repoDigests.includes(image),
        );
      // docs/protocol.md#report-body: a target service whose image is not there yet counts as
      // downloading (0 %); one whose download cannot start for lack of disk says so instead (the cloud
      // shows the word).
      if (blocker?.kind === 'insufficientStorage') status = 'Insufficient storage';
      else if (download !== undefined || ((pulling || imageMissing) && newest === undefined))
        status = 'Downloading';
      else if (acting !== undefined) status = acting;
      else if (newest === undefined) status = 'Downloaded';
      else if (handingOver) status = 'Awaiting handover';
      else status = containerWord(newest);
      services[serviceName] = {
        serviceName,
        image,
        status,
        containerId: newest?.id,
        downloadProgress: status === 'Downloading' ? (download?.progress ?? 0) : undefined,
        waitingFor: blocker === undefined ? undefined : waitReason(blocker),
        error: inputs.errors.get(key),
      };
    }
    const appBlockers = plan?.blockers.filter((b) => b.appUuid === app.uuid) ?? [];
    const appSteps = plan?.steps.filter((s) => s.appUuid === app.uuid) ?? [];
    const check = inputs.releaseChecks?.get(app.uuid);
    apps[app.uuid] = {
      ...(check === undefined ? {} : { releaseCheck: check }),
      appUuid: app.uuid,
      appId: app.appId,
      name: app.name,
      targetCommit: release?.commit,
      currentCommit: current?.commits[app.uuid],
      updateStatus: updateStatus(
        Object.values(services),
        appSteps.length + appBlockers.length > 0,
        appBlockers,
      ),
      services,
    };
  }
  return {
    appState: inputs.applying ? 'applying' : 'applied',
    phase: inputs.phase,
    rounds: inputs.rounds,
    lastAppliedAt: inputs.lastAppliedAt,
    lastError: inputs.lastError,
    lastProgressAt: inputs.lastProgressAt,
    apps,
  };
}

/** Precedence as in docs/protocol.md#report-body: downloading > downloaded > applying changes > done. */
function updateStatus(
  services: ServiceStatus[],
  pending: boolean,
  blockers: Blocker[],
): UpdateStatus {
  if (services.some((s) => s.status === 'Downloading')) return 'downloading';
  if (!pending) return 'done';
  // Still at the download stage: waiting for room to download the release.
  if (blockers.some((b) => b.kind === 'insufficientStorage')) return 'downloading';
  // Waiting for a lock or the update window: the release is on the device, ready to switch to.
  if (
    blockers.some(
      (b) =>
        b.kind === 'locked' || b.kind === 'waitingForAllImages' || b.kind === 'outsideUpdateWindow',
    )
  )
    return 'downloaded';
  return 'applying changes';
}

function containerWord(c: ContainerState): ServiceStatusWord {
  switch (c.status) {
    case 'running':
      return c.handoverOld ? 'Handing over' : 'Running';
    case 'created':
      return 'Installed';
    case 'dead':
      return 'Dead';
    case 'exited':
    case 'paused':
    case 'restarting':
    case 'removing':
      return c.status;
  }
}

function waitReason(b: Blocker): WaitReason | undefined {
  switch (b.kind) {
    case 'dependencyNotReady':
      return { kind: 'dependency', dependency: b.dependency, condition: b.condition };
    case 'locked':
      return { kind: 'locked' };
    case 'backoff':
      return { kind: 'backoff', until: b.until, error: b.error };
    case 'waitingForAllImages':
    case 'imageDownloading':
      return { kind: 'images' };
    case 'handoverPending':
      return { kind: 'handover', until: b.until };
    case 'containerStopping':
      return { kind: 'stopping' };
    case 'rebootRequired':
      return { kind: 'reboot' };
    case 'resourceInUse':
      return { kind: 'resourceInUse', resource: b.resource };
    case 'insufficientStorage':
      return {
        kind: 'storage',
        bytesNeeded: b.bytesNeeded,
        bytesFree: b.bytesFree,
        bytesReserved: b.bytesReserved,
      };
    case 'outsideUpdateWindow':
      return { kind: 'updateWindow', until: b.until };
  }
}

function pickNewest(containers: readonly ContainerState[]): ContainerState | undefined {
  return [...containers].sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
}
