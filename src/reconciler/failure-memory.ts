/**
 * Everything the loop remembers about failures, in one object that builds the planner's inputs: keyed
 * backoff (per step id, per service, for the apply itself), failed downloads, lock waits, crash windows
 * (when the agent last started each service), containers the engine refuses to start, and the last error
 * per service for the status. The reconciler keeps no failure policy of its own: it reports each step's
 * outcome and each container death here, and asks for the planner's context and view.
 *
 * What an error means for a retry comes from the error registry's `retryable` flag: a retryable failure
 * backs off with growing delays; one that waiting will not fix (a conflict, a missing resource, a bug)
 * waits the longest delay at once. Two outcomes are not failures of the step: CANCELLED (a newer target,
 * an action or a shutdown took over) and ENGINE_UNREACHABLE (the loop waits for the engine instead), and
 * an UPDATES_LOCKED refusal of `takeLock` is a lock wait, which ends when the user's locks change.
 * Backoff is applied in one place only: the planner, from `planInputs()`.
 */
import type { CurrentState } from '../domain/model.js';
import { serviceKey, type LockKey, type ServiceKey } from '../domain/keys.js';
import type { StepOutcome } from '../executor/execute-plan.js';
import {
  serviceOf,
  userLockSignature,
  type BackoffEntry,
  type FailedPull,
  type LockWait,
  type Step,
} from '../planner/index.js';
import { KeyedBackoff, type BackoffOptions } from '../shared/backoff.js';
import type { Clock } from '../shared/clock.js';
import type { BosunError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { ExternalStopGrace } from './external-stops.js';
import { staleLockKey } from './stale-locks.js';

/** Refused starts after which a container is treated as dead (and so replaced). */
const UNSTARTABLE_AFTER = 2;
/** Backoff key of the apply as a whole (an observation or planning error). */
const APPLY_KEY = 'apply';

export interface FailureMemoryOptions {
  backoff: Partial<BackoffOptions>;
  /** A container that dies this soon after the agent started it counts as a failure of its service. */
  crashWindowMs: number;
  /** See external-stops.ts. */
  externalStopGraceMs: number;
  random: () => number;
}

export class FailureMemory {
  private readonly backoff: KeyedBackoff;
  /** pullImage step id → image, for the planner's failedPulls. */
  private readonly failedPulls = new Map<string, string>();
  /** appId → the user-lock signature that refused its takeLock. */
  private readonly lockWaits = new Map<number, string>();
  /** When the agent last started each service's container. */
  private readonly startedAt = new Map<ServiceKey, number>();
  /** Container id or name → start attempts the engine refused in a row. */
  private readonly unstartable = new Map<string, number>();
  /** The last error per service, for the status (cleared by the service's next success). */
  readonly errors = new Map<ServiceKey, string>();
  /** Containers someone else stopped: their start waits for that someone first (livepush). */
  private readonly externalStops: ExternalStopGrace;
  /** createNetwork step ids the engine refused for want of a free address range. */
  private readonly waitingForAddressRange = new Set<string>();

  constructor(
    private readonly clock: Clock,
    private readonly options: FailureMemoryOptions,
    private readonly log: Logger,
  ) {
    this.backoff = new KeyedBackoff(clock, options.backoff, options.random);
    this.externalStops = new ExternalStopGrace(options.externalStopGraceMs);
  }

  /** A container of ours died and the agent did not stop it. */
  stoppedByOthers(labels: Record<string, string>, name: string | undefined): void {
    this.externalStops.died(labels, name, this.clock.now());
  }

  /** A container was removed: a new one for the service is not someone else's to start. */
  removed(labels: Record<string, string>, name: string | undefined): void {
    this.externalStops.destroyed(labels, name);
  }

  /**
   * A network went away on the engine, so an address range may be free: network creations that waited
   * for one are tried at the next round instead of at the end of their backoff. Returns whether any
   * waited (and so whether a round is worth it).
   */
  networkRemoved(): boolean {
    if (this.waitingForAddressRange.size === 0) return false;
    for (const stepId of this.waitingForAddressRange) this.backoff.succeed(stepId);
    this.log.info('reconciler.address-range-freed', { retrying: [...this.waitingForAddressRange] });
    this.waitingForAddressRange.clear();
    return true;
  }

  /** A new target: old failures were about the old one, it gets a fresh start. */
  forgetTarget(): void {
    this.waitingForAddressRange.clear();
    this.backoff.reset();
    this.lockWaits.clear();
    this.failedPulls.clear();
  }

  /** A forced apply ignores the locks that refused us. */
  forgetLockWaits(): void {
    this.lockWaits.clear();
  }

  hasLockWaits(): boolean {
    return this.lockWaits.size > 0;
  }

  /** Records how a step (or a long operation) ended. `current` is the observation it was planned from. */
  record(outcome: Pick<StepOutcome, 'step' | 'status' | 'error'>, current: CurrentState): void {
    const { step, status, error } = outcome;
    const key = keyOf(step);
    if (status === 'ok') {
      this.backoff.succeed(step.id);
      this.waitingForAddressRange.delete(step.id);
      this.failedPulls.delete(step.id);
      if (key !== undefined) this.errors.delete(key);
      if (step.kind === 'startContainer') {
        this.unstartable.delete(step.containerId);
        if (key !== undefined) this.startedAt.set(key, this.clock.now());
      }
      return;
    }
    if (status !== 'failed' || error === undefined) return;
    this.recordFailure(step, error, current);
    if (key !== undefined) this.errors.set(key, error.message);
  }

  private recordFailure(step: Step, error: BosunError, current: CurrentState): void {
    const fields = { step: step.id, kind: step.kind, code: error.code, err: error };
    if (error.code === 'UPDATES_LOCKED' && step.kind === 'takeLock') {
      this.lockWaits.set(step.appId, userLockSignature(current.locks, step.appId));
      this.log.warn('reconciler.updates-locked', fields);
      return;
    }
    if (error.code === 'CANCELLED' || error.code === 'ENGINE_UNREACHABLE') {
      this.log.warn('reconciler.step-interrupted', fields);
      return;
    }
    const until = this.backoff.fail(step.id, error.message, { atCap: !error.retryable });
    if (step.kind === 'startContainer')
      this.unstartable.set(step.containerId, (this.unstartable.get(step.containerId) ?? 0) + 1);
    if (step.kind === 'pullImage') this.failedPulls.set(step.id, step.image);
    if (error.code === 'ENGINE_NO_ADDRESS_POOL') this.waitingForAddressRange.add(step.id);
    this.log.error('reconciler.step-failed', {
      ...fields,
      retryable: error.retryable,
      retryAt: new Date(until).toISOString(),
    });
  }

  /**
   * A container that exits with an error right after the agent started it makes its service back off.
   * Exits by signal (137, 143: someone stopped or killed it) are not the service's fault.
   */
  noteDeath(labels: Record<string, string>, exitCode: number | undefined): void {
    if (exitCode === undefined || exitCode === 0 || exitCode === 137 || exitCode === 143) return;
    const appUuid = labels['io.balena.app-uuid'];
    const service = labels['io.balena.service-name'];
    if (appUuid === undefined || service === undefined) return;
    const key = serviceKey(appUuid, service);
    const started = this.startedAt.get(key);
    if (started === undefined || this.clock.now() - started > this.options.crashWindowMs) return;
    this.startedAt.delete(key);
    const until = this.backoff.fail(key, 'the container exited right after it was started');
    this.log.warn('reconciler.service-crashed', {
      app: appUuid,
      service,
      retryAt: new Date(until).toISOString(),
    });
  }

  /** The apply as a whole failed (observation, planning): returns when to try again. */
  applyFailed(error: BosunError): number {
    return this.backoff.fail(APPLY_KEY, error.message, { atCap: !error.retryable });
  }

  applySucceeded(): void {
    this.backoff.succeed(APPLY_KEY);
  }

  /** What the planner's context needs from here. */
  planInputs(): { backoffs: BackoffEntry[]; failedPulls: FailedPull[]; lockWaits: LockWait[] } {
    const held = this.externalStops.withGrace(this.backoff.snapshot(), this.clock.now());
    const backoffs = [...held].map(([key, e]) => ({
      key,
      until: e.until,
      error: e.lastError,
    }));
    const failedPulls = [...this.failedPulls].flatMap(([stepId, image]) => {
      const entry = this.backoff.active(stepId);
      return entry === undefined ? [] : [{ image, until: entry.until, error: entry.lastError }];
    });
    const lockWaits = [...this.lockWaits].map(([appId, userLocks]) => ({ appId, userLocks }));
    return { backoffs, failedPulls, lockWaits };
  }

  /**
   * The observation as the planner should see it: stale user locks dropped, and containers the engine
   * repeatedly refuses to start shown as dead. The latter happens after an engine restart interrupted a
   * start (`task … already exists`): such a container never starts again, but a new one does, and the
   * planner replaces dead containers.
   */
  view(current: CurrentState, stale: ReadonlySet<LockKey>): CurrentState {
    for (const ref of [...this.unstartable.keys()])
      if (!current.containers.some((c) => c.id === ref || c.name === ref))
        this.unstartable.delete(ref);
    // A container the engine runs after all (its restart policy started it once the engine was back)
    // is not broken: showing it as dead would plan a removal the engine refuses while it runs.
    for (const c of current.containers)
      if (c.status === 'running' || c.status === 'restarting') {
        this.unstartable.delete(c.id);
        this.unstartable.delete(c.name);
      }
    // A start step names a container by id or, when created in the same plan, by name: count both,
    // then pin the verdict to the id so that a replacement with the same name starts afresh.
    const broken = (id: string, name: string): boolean => {
      const refused = (this.unstartable.get(id) ?? 0) + (this.unstartable.get(name) ?? 0);
      if (refused < UNSTARTABLE_AFTER) return false;
      this.unstartable.set(id, refused);
      this.unstartable.delete(name);
      return true;
    };
    if (stale.size === 0 && !current.containers.some((c) => broken(c.id, c.name))) return current;
    return {
      ...current,
      containers: current.containers.map((c) =>
        broken(c.id, c.name) ? { ...c, status: 'dead' } : c,
      ),
      locks: current.locks.filter((l) => !(l.heldBy === 'user' && stale.has(staleLockKey(l)))),
    };
  }
}

/** The service a step belongs to, as a key. */
export function keyOf(step: Step): ServiceKey | undefined {
  const service = serviceOf(step);
  return step.appUuid === undefined || service === undefined
    ? undefined
    : serviceKey(step.appUuid, service);
}
