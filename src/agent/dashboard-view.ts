/**
 * Turns the reconciler's in-memory snapshot (and the last plan) into the dashboard's plain words:
 * "waiting for the update lock held by service X since 10:42", "downloading 43%". Pure: the page and
 * `bosun status` both render its output, and a unit test pins the sentences.
 */
import type {
  DashboardAppView,
  DashboardServiceView,
  DashboardView,
} from '../api/dashboard-types.js';
import type { ContainerState, CurrentState, LockState } from '../domain/model.js';
import type { Blocker, Plan } from '../planner/index.js';
import type { AppStatus, ServiceStatus, WaitReason } from '../reconciler/status.js';
import type { ReconcilerSnapshot } from './ports.js';

export interface DashboardInputs {
  snapshot: ReconcilerSnapshot;
  /** The last plan the reconciler made (undefined before its first round). */
  plan: Plan | undefined;
  device: DashboardView['device'];
  now: number;
  /** Wall-clock time of day for people, e.g. `10:42` (the agent's time zone). */
  timeOfDay?: (epochMs: number) => string;
}

export function clockTime(epochMs: number): string {
  return new Date(epochMs).toTimeString().slice(0, 5);
}

export function describeDashboard(inputs: DashboardInputs): DashboardView {
  const { snapshot, plan } = inputs;
  const time = inputs.timeOfDay ?? clockTime;
  const current = snapshot.current;
  const apps = Object.values(snapshot.status.apps)
    .map((app) => describeApp(app, current, plan, time))
    .sort((a, b) => a.appId - b.appId);
  const applying = snapshot.status.appState === 'applying';
  return {
    device: inputs.device,
    summary: summarise(snapshot, apps, plan),
    plan:
      applying && plan !== undefined
        ? [...plan.steps.map((s) => s.reason), ...plan.blockers.map((b) => blockerWords(b, time))]
        : [],
    apps,
    at: new Date(inputs.now).toISOString(),
  };
}

function describeApp(
  app: AppStatus,
  current: CurrentState | undefined,
  plan: Plan | undefined,
  time: (ms: number) => string,
): DashboardAppView {
  const lockedBy = (plan?.blockers ?? []).filter(
    (b): b is Extract<Blocker, { kind: 'locked' }> =>
      b.kind === 'locked' && b.appUuid === app.appUuid,
  );
  const locks = current?.locks ?? [];
  const lockWords = lockedBy.map((b) =>
    lockSentence(b.serviceName, findLock(locks, app.appId, b.serviceName), time),
  );
  const storage = (plan?.blockers ?? []).find(
    (b): b is Extract<Blocker, { kind: 'insufficientStorage' }> =>
      b.kind === 'insufficientStorage' && b.appUuid === app.appUuid,
  );
  if (storage !== undefined) lockWords.push(storageSentence(storage));
  const services = Object.values(app.services)
    .map((s) => describeService(s, app.appId, current, locks, time))
    .sort((a, b) => a.name.localeCompare(b.name));
  return {
    appId: app.appId,
    name: app.name,
    commit: app.currentCommit ?? app.targetCommit,
    updateStatus: app.updateStatus,
    waiting: lockWords.length === 0 ? undefined : lockWords.join('; '),
    release: releaseSentence(app, time),
    services,
  };
}

/** Health-gated rollback in words: a failed release and what runs instead, or a window running. */
function releaseSentence(app: AppStatus, time: (ms: number) => string): string | undefined {
  const failed = app.releaseCheck?.failed;
  if (failed !== undefined) {
    const outcome =
      failed.rolledBackTo === undefined
        ? 'no earlier release was confirmed here, so it keeps running'
        : `rolled back to release ${failed.rolledBackTo.slice(0, 7)}`;
    return `Release ${failed.commit.slice(0, 7)} failed its confirmation window at ${time(failed.at)} (${failed.reason}); ${outcome}. It is not tried again until the target changes.`;
  }
  const watching = app.releaseCheck?.watching;
  return watching === undefined
    ? undefined
    : `Watching release ${watching.commit.slice(0, 7)} until ${time(watching.until)}: it is rolled back if a service turns unhealthy or crash-loops.`;
}

function describeService(
  s: ServiceStatus,
  appId: number,
  current: CurrentState | undefined,
  locks: readonly LockState[],
  time: (ms: number) => string,
): DashboardServiceView {
  const container: ContainerState | undefined =
    s.containerId === undefined
      ? undefined
      : current?.containers.find((c) => c.id === s.containerId);
  let waiting: string | undefined;
  if (s.status === 'Downloading') waiting = `downloading ${s.downloadProgress ?? 0}%`;
  else if (s.waitingFor !== undefined)
    waiting = waitWords(s.waitingFor, s.serviceName, findLock(locks, appId, s.serviceName), time);
  return {
    name: s.serviceName,
    state: s.status,
    containerId: s.containerId,
    image: s.image ?? '',
    health: container?.health ?? 'none',
    restartCount: container?.restartCount ?? 0,
    downloadProgress: s.downloadProgress,
    waiting,
    error: s.error,
  };
}

function findLock(
  locks: readonly LockState[],
  appId: number,
  service: string,
): LockState | undefined {
  return locks.find((l) => l.appId === appId && l.serviceName === service && l.heldBy === 'user');
}

function lockSentence(
  service: string,
  lock: LockState | undefined,
  time: (ms: number) => string,
): string {
  const since = lock?.since === undefined ? '' : ` since ${time(lock.since)}`;
  return `waiting for the update lock held by service ${service}${since}`;
}

function waitWords(
  reason: WaitReason,
  service: string,
  lock: LockState | undefined,
  time: (ms: number) => string,
): string {
  switch (reason.kind) {
    case 'locked':
      return lockSentence(service, lock, time);
    case 'dependency':
      return `waiting for service ${reason.dependency} to be ${conditionWords(reason.condition)}`;
    case 'backoff':
      return `failed, retrying at ${time(reason.until)}: ${reason.error}`;
    case 'images':
      return 'waiting for every image of the release to download';
    case 'handover':
      return `handing over to the new container (until ${time(reason.until)} at the latest)`;
    case 'stopping':
      return 'waiting for the old container to stop';
    case 'reboot':
      return 'waiting for a reboot of the device';
    case 'resourceInUse':
      return `waiting for ${reason.resource} to be free`;
    case 'storage':
      return storageSentence(reason);
    case 'updateWindow':
      return windowWords(reason.until, time);
  }
}

function conditionWords(condition: string): string {
  if (condition === 'service_healthy') return 'healthy';
  if (condition === 'service_completed_successfully') return 'completed successfully';
  return 'started';
}

function windowWords(until: number, time: (ms: number) => string): string {
  return `waiting for the update window (opens at ${time(until)})`;
}

function blockerWords(b: Blocker, time: (ms: number) => string): string {
  const who = 'serviceName' in b && b.serviceName !== undefined ? `service ${b.serviceName}: ` : '';
  switch (b.kind) {
    case 'locked':
      return `${who}holds the update lock`;
    case 'imageDownloading':
      return `${who}downloading ${b.progress ?? 0}%`;
    case 'dependencyNotReady':
      return `${who}waiting for service ${b.dependency} to be ${conditionWords(b.condition)}`;
    case 'backoff':
      return `${who}retrying after: ${b.error}`;
    case 'handoverPending':
      return `${who}handing over`;
    case 'waitingForAllImages':
      return `${who}waiting for every image of the release`;
    case 'containerStopping':
      return `${who}waiting for the old container to stop`;
    case 'rebootRequired':
      return `${who}waiting for a reboot`;
    case 'resourceInUse':
      return `${b.resource} still used by ${b.usedBy.join(', ')}`;
    case 'insufficientStorage':
      return `${who}${storageSentence(b)}`;
    case 'outsideUpdateWindow':
      return `${who}${windowWords(b.until, time)}`;
  }
}

/** "not enough disk space to download the release: it needs about 450 MB, 95 MB is free and 64 MB is kept free". */
function storageSentence(b: {
  bytesNeeded: number;
  bytesFree: number;
  bytesReserved: number;
}): string {
  return (
    `not enough disk space to download the release: it needs about ${megabytes(b.bytesNeeded)}, ` +
    `${megabytes(b.bytesFree)} is free and ${megabytes(b.bytesReserved)} is kept free`
  );
}

/** Bytes for people, in decimal megabytes as disk sizes are sold (never "0 MB" for a few bytes). */
function megabytes(bytes: number): string {
  if (bytes >= 10e9) return `${Math.round(bytes / 1e9)} GB`;
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  return `${Math.max(bytes > 0 ? 1 : 0, Math.round(bytes / 1e6))} MB`;
}

function summarise(
  snapshot: ReconcilerSnapshot,
  apps: readonly DashboardAppView[],
  plan: Plan | undefined,
): string {
  const status = snapshot.status;
  switch (status.phase) {
    case 'starting':
      return 'Starting.';
    case 'stopped':
      return 'Stopped.';
    case 'waiting-for-engine':
      return 'Waiting for the container engine to answer.';
    case 'failed':
      return `The last update failed, retrying: ${status.lastError ?? 'unknown error'}`;
    case 'converged':
      return apps.length === 0 ? 'Up to date (no apps).' : 'Up to date.';
    case 'applying': {
      const steps = plan?.steps.length ?? 0;
      return steps > 0 ? `Updating: ${steps} step${steps === 1 ? '' : 's'} to run.` : 'Updating.';
    }
    case 'blocked': {
      const first =
        apps.find((a) => a.waiting !== undefined)?.waiting ??
        apps.flatMap((a) => a.services).find((s) => s.waiting !== undefined)?.waiting;
      return first === undefined ? 'Waiting.' : `Waiting: ${first}.`;
    }
  }
}
