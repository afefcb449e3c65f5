/**
 * The reconcile loop. It takes a wake from the one wake queue, runs rounds (observe → plan → execute,
 * rounds.ts) until the plan is empty and nothing blocks (converged) or only blockers remain, publishes
 * the status, and sleeps until the next wake: an engine event, a blocker's deadline, a new target, a
 * lock file change, a download that ended. It holds no failure policy (failure-memory.ts builds the
 * planner's inputs) and never waits for a download (long-operations.ts).
 *
 * One apply at a time and the latest target wins: a new target aborts the running apply through its
 * AbortSignal (and the downloads it no longer needs) and the loop starts over. Intermediate targets
 * (restart, purge) run through the same rounds, exclusively, then the loop resumes the real target.
 */
import { serviceKey, type ServiceKey } from '../domain/keys.js';
import type { CurrentState, TargetState } from '../domain/model.js';
import { LongOperations } from '../executor/long-operations.js';
import { userLockSignature, type Plan } from '../planner/index.js';
import { BosunError, toBosunError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { EngineWakes } from './engine-wakes.js';
import { FailureMemory } from './failure-memory.js';
import { withHeldStopped } from './held-stopped.js';
import { runIntermediate } from './intermediate.js';
import { LockPoll } from './lock-poll.js';
import {
  DEFAULT_RECONCILER_OPTIONS,
  type ReconcilerDeps,
  type ReconcilerOptions,
} from './reconciler-options.js';
import {
  nextRecheck,
  Rounds,
  targetImages,
  type ApplyMode,
  type Outcome,
  type ReconcileSettings,
} from './rounds.js';
import { StaleLockTracker } from './stale-locks.js';
import { StoredTarget } from './stored-target.js';
import { StatusBoard, type ReconcilerSnapshot } from './status-board.js';
import type { ReconcileStatus } from './status.js';
import { WakeQueue } from './wake-queue.js';

export {
  DEFAULT_RECONCILER_OPTIONS,
  type ReconcilerDeps,
  type ReconcilerOptions,
} from './reconciler-options.js';
export type { PlanFn, StepListener } from './rounds.js';
export type { ReconcilerSnapshot } from './status-board.js';

/** An intermediate target waiting for its turn in the loop. */
interface ExclusiveJob {
  target: TargetState;
  mode: ApplyMode;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class Reconciler {
  private readonly options: ReconcilerOptions;
  private readonly log: Logger;
  private readonly queue: WakeQueue;
  private readonly failures: FailureMemory;
  /** Downloads started by earlier rounds, still running (rounds never wait for them). */
  private readonly operations = new LongOperations();
  private readonly board: StatusBoard;
  private readonly engineWakes: EngineWakes;
  private readonly lockPoll: LockPoll;
  private readonly rounds: Rounds;
  private target: TargetState | undefined;
  private force = false;
  private stopped = false;
  private started = false;
  private currentApply: AbortController | undefined;
  private readonly exclusiveJobs: ExclusiveJob[] = [];
  private loopDone: Promise<void> = Promise.resolve();
  private readonly unsubscribe: Array<() => void> = [];
  /** Services the user stopped through the API: kept stopped in every target. */
  private readonly heldStopped = new Set<ServiceKey>();
  private stored: StoredTarget | undefined;

  constructor(
    private readonly deps: ReconcilerDeps,
    options: Partial<ReconcilerOptions> = {},
  ) {
    const o = { ...DEFAULT_RECONCILER_OPTIONS, ...options };
    this.options = o;
    const { clock } = deps;
    const log = deps.logger.child({ component: 'reconciler' });
    this.log = log;
    this.queue = new WakeQueue(clock, o.debounceMs, log);
    this.failures = new FailureMemory(clock, o, log);
    this.board = new StatusBoard(
      {
        target: () => this.target,
        downloads: () => deps.downloads.list(),
        errors: () => this.failures.errors,
      },
      log,
      () => clock.now(),
    );
    const lastObserved = (): CurrentState | undefined => this.board.lastCurrent;
    const { queue, failures, operations, board } = this;
    const acting = (): ReadonlyMap<ServiceKey, string> => this.board.acting;
    const engineWakes = new EngineWakes({ ...deps, queue, failures, lastObserved, acting });
    this.engineWakes = engineWakes;
    this.lockPoll = new LockPoll({ ...deps, queue, log, intervalMs: o.lockPollMs });
    const staleLocks = new StaleLockTracker(o.staleLockAfterMs);
    this.rounds = new Rounds(
      { ...deps, log, queue, failures, staleLocks, operations, board, engineWakes },
      o,
    );
  }

  /**
   * Starts the loop. With a `loadTarget` dependency the stored target is loaded and applied (so a
   * reboot without network still comes back to it); `target` applies a given one instead.
   */
  start(target?: TargetState): void {
    if (this.started) return;
    this.started = true;
    if (target !== undefined) this.target = target;
    else if (this.deps.loadTarget !== undefined) this.reload(false);
    const subscription = this.deps.engine.events().subscribe({
      next: (event) => this.engineWakes.onEvent(event),
      error: (err: unknown) => this.log.error('reconciler.events-failed', { err }),
    });
    this.unsubscribe.push(
      () => subscription.unsubscribe(),
      this.deps.downloads.onChange(() => this.board.publish()),
      this.operations.onFinished((o) => this.rounds.onOperationEnd(o)),
    );
    this.loopDone = this.loop();
    this.queue.wake('start');
  }

  /** A new target (already stored by the caller): cancels the running apply and starts over. */
  setTarget(target: TargetState, options: { force?: boolean } = {}): void {
    this.target = target;
    this.force = options.force ?? false;
    this.failures.forgetTarget();
    const reason = new BosunError('CANCELLED', 'a newer target arrived');
    this.currentApply?.abort(reason);
    // A download the new target still needs goes on (a config change must not restart a long pull).
    const wanted = targetImages(target);
    void this.operations.cancelWhere(
      (step) => step.kind === 'pullImage' && !wanted.has(step.image),
      reason,
    );
    this.queue.wake('target');
  }

  /**
   * Apply the stored target soon (it was just saved, or POST /v1/update). The target is re-loaded: if
   * it changed, the running apply is cancelled and starts over on the new one (latest wins); if not,
   * the running apply goes on and only a forced request changes how it treats locks.
   */
  triggerApply(options: { force: boolean }): void {
    if (this.deps.loadTarget === undefined) {
      if (options.force) this.forceNow();
      this.queue.wake('request');
      return;
    }
    this.reload(options.force);
  }

  /**
   * Drives the engine to an intermediate target (a user action: restart, purge, stop…) exclusively,
   * resolving once it converged; the loop then returns to the real target. Rejects with UPDATES_LOCKED
   * when a user lock blocks it and `force` is false.
   */
  applyIntermediate(
    target: TargetState,
    options: { force: boolean; removeVolumes?: boolean },
  ): Promise<void> {
    if (!this.started || this.stopped)
      return Promise.reject(new BosunError('NOT_READY', 'the reconciler is not running'));
    const mode: ApplyMode = {
      intermediate: true,
      force: options.force,
      keepVolumes: options.removeVolumes === true ? false : undefined,
    };
    return new Promise<void>((resolve, reject) => {
      this.exclusiveJobs.push({ target, mode, resolve, reject });
      this.currentApply?.abort(new BosunError('CANCELLED', 'a user action takes over'));
      this.queue.nudge();
    });
  }

  /** Services stopped through the API stay stopped (as `running: false`) until released here. */
  holdStopped(appUuid: string, serviceName: string, stopped: boolean): void {
    const key = serviceKey(appUuid, serviceName);
    if (stopped) this.heldStopped.add(key);
    else this.heldStopped.delete(key);
  }

  /**
   * The plan the loop would make now for `target` (default: the one it applies, undefined when there
   * is none yet), changing nothing (see Rounds.preview).
   */
  async preview(
    target?: TargetState,
    settings?: Partial<ReconcileSettings>,
  ): Promise<
    { plan: Plan; current: CurrentState; needBytes: Readonly<Record<string, number>> } | undefined
  > {
    const t = target ?? this.target;
    if (t === undefined) return undefined;
    return this.rounds.preview(withHeldStopped(t, this.heldStopped), settings);
  }

  /** In memory, no I/O: the status endpoints answer from this. */
  snapshot(): ReconcilerSnapshot {
    return this.board.snapshot();
  }

  status(): ReconcileStatus {
    return this.board.status();
  }

  onStatus(listener: (status: ReconcileStatus) => void): () => void {
    return this.board.onStatus(listener);
  }

  /**
   * Resolves the next time the loop has nothing to do (converged, blocked or failed) and no download
   * runs, at once if that is so now. `afterRound` waits for a settle after that round (e.g. to see the
   * effect of a trigger).
   */
  whenSettled(options: { afterRound?: number } = {}): Promise<ReconcileStatus> {
    const applying = this.currentApply !== undefined || this.exclusiveJobs.length > 0;
    return this.board.whenSettled(options.afterRound ?? -1, !this.busy() && !applying);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const reason = new BosunError('CANCELLED', 'the agent is stopping');
    this.currentApply?.abort(reason);
    await this.operations.cancelAll(reason);
    this.lockPoll.stop();
    for (const off of this.unsubscribe.splice(0)) off();
    this.queue.close();
    await this.loopDone;
    this.board.setPhase('stopped');
  }

  private busy(): boolean {
    return this.queue.pending || this.operations.size > 0;
  }

  private forceNow(): void {
    this.force = true;
    this.failures.forgetLockWaits();
    this.currentApply?.abort(new BosunError('CANCELLED', 'a forced apply was requested'));
  }

  private reload(force: boolean): void {
    const load = this.deps.loadTarget;
    if (load === undefined) return;
    this.stored ??= new StoredTarget(load, {
      current: () => this.target,
      changed: (target, forced) => this.setTarget(target, { force: forced }),
      unchanged: (forced) => {
        if (forced) this.forceNow();
        this.queue.wake('request');
      },
      failed: (error) => {
        this.board.lastError = `the stored target was not applied: ${error.message}`;
        this.log.error('reconciler.target-load-failed', { err: error, code: error.code });
        this.board.publish();
        if (this.target === undefined) this.board.settle('failed', false, this.busy());
      },
    });
    this.stored.reload(force);
  }

  // ───────────────────────────── the loop ─────────────────────────────

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const job = this.exclusiveJobs.shift();
      if (job !== undefined) {
        await this.runExclusive(job);
        // Let the action queue its next intermediate target before the real one is resumed.
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      if (!this.queue.pending) {
        await this.queue.next();
        continue;
      }
      const target = this.target;
      if (target === undefined) {
        this.queue.take(); // nothing to apply until a target arrives
        this.board.settle('converged', false, this.busy());
        continue;
      }
      await this.applyTarget(withHeldStopped(target, this.heldStopped));
    }
  }

  /** A new apply begins: pending deadlines are void, the status says so. */
  private beginApply(): AbortController {
    this.cancelWakeups();
    this.currentApply = new AbortController();
    this.board.applying = true;
    this.board.setPhase('applying');
    return this.currentApply;
  }

  private async applyTarget(target: TargetState): Promise<void> {
    const controller = this.beginApply();
    const mode: ApplyMode = { intermediate: false, force: this.force, keepVolumes: undefined };
    try {
      const outcome = await this.rounds.untilSettled(target, mode, controller.signal);
      this.board.lastError = undefined;
      if (outcome.kind === 'converged') {
        this.force = false;
        this.board.lastAppliedAt = this.deps.clock.now();
        this.failures.applySucceeded();
        this.board.settle('converged', false, this.busy());
      } else {
        this.scheduleWakeups(outcome);
        this.board.settle('blocked', true, this.busy());
      }
    } catch (err) {
      if (controller.signal.aborted) return; // a newer target or an action took over; the loop goes on
      const error = toBosunError(err, 'APPLY_FAILED');
      const until = this.failures.applyFailed(error);
      this.board.lastError = error.message;
      const retryAt = new Date(until).toISOString();
      this.log.error('reconciler.apply-failed', { err: error, code: error.code, retryAt });
      this.queue.wakeAt(until, 'apply-retry');
      this.board.settle('failed', true, this.busy());
    } finally {
      this.currentApply = undefined;
    }
  }

  private async runExclusive(job: ExclusiveJob): Promise<void> {
    const controller = this.beginApply();
    const target = withHeldStopped(job.target, this.heldStopped);
    const mode = { ...job.mode, force: job.mode.force || this.force };
    const { clock } = this.deps;
    const { intermediateTimeoutMs: timeoutMs, lockPollMs } = this.options;
    try {
      await runIntermediate(
        { clock, operations: this.operations, timeoutMs, lockPollMs },
        (signal) => this.rounds.untilSettled(target, mode, signal),
        controller.signal,
      );
      job.resolve();
    } catch (err) {
      job.reject(err);
    } finally {
      this.currentApply = undefined;
      this.queue.wake('action-done'); // back to the real target
    }
  }

  private scheduleWakeups(outcome: Extract<Outcome, { kind: 'blocked' }>): void {
    const at = nextRecheck(outcome, this.deps.clock.now(), this.options.blockedRecheckMs);
    if (at !== undefined) this.queue.wakeAt(at, 'timer');
    if (outcome.plan.blockers.some((b) => b.kind === 'locked') || this.failures.hasLockWaits())
      this.lockPoll.start(userLockSignature(this.board.lastCurrent?.locks ?? []));
  }

  private cancelWakeups(): void {
    this.queue.cancelTimer();
    this.lockPoll.stop();
  }
}
