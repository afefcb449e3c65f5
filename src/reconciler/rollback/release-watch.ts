/**
 * Health-gated rollback, the judging half: pure functions over one observation. When has a release been
 * applied (so its confirmation window starts), and what does an observation inside the window say about
 * it: still watching, failed (and why), or confirmed once the window is over with every watched service
 * up. The inputs are what the reconciler observes anyway: restart counts, health, exit codes, start times.
 */
import type { AppTarget, ContainerState, CurrentState, ServiceTarget } from '../../domain/model.js';
import type { Plan } from '../../planner/index.js';
import type { FailedReleaseRecord, WatchedReleaseRecord } from '../../store/ports.js';

/** Compose label that takes a service out of the health gate (`io.bosun.rollback: "false"`). */
export const ROLLBACK_LABEL = 'io.bosun.rollback';
/** Failed runs (engine restarts plus exits seen) within the window that make a crash loop. */
export const CRASH_LOOP_RUNS = 3;
/** Exit codes of a stop or kill: someone ended the container, it did not fail. */
const STOPPED_EXIT_CODES = new Set([0, 137, 143]);

export type Judgement =
  | { kind: 'watching'; watch: WatchedReleaseRecord; changed: boolean }
  | { kind: 'failed'; failure: Pick<FailedReleaseRecord, 'reason' | 'service' | 'cause'> }
  | { kind: 'confirmed' };

/** The services the gate watches: meant to run, and not opted out by label. */
export function watchedServices(app: AppTarget): ServiceTarget[] {
  return Object.values(app.release?.services ?? {})
    .filter((s) => s.running && !optedOut(s))
    .sort((a, b) => (a.serviceName < b.serviceName ? -1 : 1));
}

function optedOut(service: ServiceTarget): boolean {
  const value = service.createSpec.Labels[ROLLBACK_LABEL]?.trim().toLowerCase();
  return value === 'false' || value === '0' || value === 'off' || value === 'no';
}

/**
 * The release is applied: this round planned nothing for the app but book-keeping (its commit, locks,
 * image clean-up), waits for nothing but backoff (a crashing service backs off: that is for the window
 * to judge, not a reason to wait), and every service that should run has a container of this release
 * that was started, with no container of another release left. A download or create that fails keeps
 * the app un-applied: a network outage is no reason to roll back.
 */
export function releaseApplied(app: AppTarget, current: CurrentState, plan: Plan): boolean {
  const release = app.release;
  if (release === undefined) return false;
  const bookKeeping = new Set(['recordCommit', 'releaseLock', 'removeImage']);
  if (plan.steps.some((s) => s.appUuid === app.uuid && !bookKeeping.has(s.kind))) return false;
  if (plan.blockers.some((b) => b.appUuid === app.uuid && b.kind !== 'backoff')) return false;
  const containers = current.containers.filter((c) => c.appUuid === app.uuid);
  if (containers.some((c) => c.commit !== release.commit || c.handoverOld)) return false;
  return Object.values(release.services)
    .filter((s) => s.running)
    .every((s) =>
      containers.some((c) => c.serviceName === s.serviceName && c.startedAt !== undefined),
    );
}

/** What one observation says about a release under watch at `now`. */
export function judge(
  watch: WatchedReleaseRecord,
  app: AppTarget,
  current: CurrentState,
  now: number,
): Judgement {
  const restarts: Record<string, number> = { ...watch.restarts };
  const exits: Record<string, string[]> = {};
  for (const [service, runs] of Object.entries(watch.exits)) exits[service] = [...runs];
  let changed = false;
  const commit = app.release?.commit;
  const ended = now >= watch.deadline;
  for (const service of watchedServices(app)) {
    const name = service.serviceName;
    const own = current.containers.filter(
      (c) => c.appUuid === app.uuid && c.serviceName === name && c.commit === commit,
    );
    for (const c of own) {
      if (restarts[c.id] === undefined) {
        restarts[c.id] = c.restartCount ?? 0;
        changed = true;
      }
      const run = `${c.id}@${c.startedAt ?? ''}`;
      const seen = (exits[name] ??= []);
      if (failedRun(c) && !seen.includes(run)) {
        seen.push(run);
        changed = true;
      }
    }
    const unhealthy = own.find((c) => c.health === 'unhealthy');
    if (unhealthy !== undefined)
      return failed(name, 'unhealthy', `service ${name}: its healthcheck reports unhealthy`);
    const engineRestarts = own.reduce(
      (sum, c) => sum + Math.max(0, (c.restartCount ?? 0) - (restarts[c.id] ?? 0)),
      0,
    );
    const runs = engineRestarts + (exits[name]?.length ?? 0);
    if (runs >= CRASH_LOOP_RUNS)
      return failed(
        name,
        'crashLoop',
        `service ${name}: crash loop, it failed ${runs} times within the confirmation window${exitNote(own)}`,
      );
    if (ended && !own.some(upOrDone))
      return failed(
        name,
        'notRunning',
        `service ${name}: not running at the end of the confirmation window${exitNote(own)}`,
      );
  }
  // A healthcheck that has not answered yet is not a pass: its first answer (an engine event) decides.
  if (ended && !undecided(app, current)) return { kind: 'confirmed' };
  return { kind: 'watching', watch: { ...watch, restarts, exits }, changed };
}

function failed(
  service: string,
  cause: FailedReleaseRecord['cause'],
  reason: string,
): Judgement & { kind: 'failed' } {
  return { kind: 'failed', failure: { service, cause, reason } };
}

function undecided(app: AppTarget, current: CurrentState): boolean {
  const watched = new Set(watchedServices(app).map((s) => s.serviceName));
  return current.containers.some(
    (c) =>
      c.appUuid === app.uuid &&
      watched.has(c.serviceName) &&
      c.status === 'running' &&
      c.health === 'starting',
  );
}

/** An exited container that ended by itself with an error. */
function failedRun(c: ContainerState): boolean {
  return (
    (c.status === 'exited' || c.status === 'dead') &&
    c.exitCode !== undefined &&
    !STOPPED_EXIT_CODES.has(c.exitCode)
  );
}

/** Running (and not unhealthy: checked before), or a one-shot service that finished cleanly. */
function upOrDone(c: ContainerState): boolean {
  return c.status === 'running' || (c.status === 'exited' && c.exitCode === 0);
}

function exitNote(containers: readonly ContainerState[]): string {
  const code = containers.find((c) => c.exitCode !== undefined && c.exitCode !== 0)?.exitCode;
  return code === undefined ? '' : ` (last exit code ${code})`;
}
