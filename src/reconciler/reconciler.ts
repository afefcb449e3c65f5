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
import type { StepOutcome } from '../executor/execute-plan.js';
import { LongOperations } from '../executor/long-operations.js';
import { userLockSignature, type Plan } from '../planner/index.js';
import { BosunError, toBosunError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { EngineWakes } from './engine-wakes.js';
import { ExclusiveJobs } from './exclusive-jobs.js';
import { FailureMemory } from './failure-memory.js';
import { withHeldStopped } from './held-stopped.js';
import { runIntermediate } from './intermediate.js';
import { LockPoll } from './lock-poll.js';
import { runOneOffPlan, type BuildPlan, type OneOffDeps } from './one-off-plans.js';
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
import { cleanupVolumes } from './volume-cleanup.js';
import { WakeQueue } from './wake-queue.js';

export type { ReconcilerSnapshot } from './status-board.js';

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
  private readonly oneOff: OneOffDeps;
  private target: TargetState | undefined;
  private force = false;
  private stopped = false;
  private started = false;
  private currentApply: AbortController | undefined;
  private readonly exclusiveJobs = new ExclusiveJobs();
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
        releaseChecks: () => deps.releaseChecks?.view() ?? new Map(),
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
    this.oneOff = { ...deps, log, concurrency: o.concurrency };
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
    // The feed does not fail: a broken engine connection arrives as `disconnected`/`reconnected`.
    const subscription = this.deps.engine
      .events()
      .subscribe((event) => this.engineWakes.onEvent(event));
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
    const keepVolumes = options.removeVolumes === true ? false : undefined;
    const { intermediateTimeoutMs: timeoutMs, lockPollMs } = this.options;
    const deps = { clock: this.deps.clock, operations: this.operations, timeoutMs, lockPollMs };
    return this.exclusive(async (signal) => {
      const held = withHeldStopped(target, this.heldStopped);
      const mode = { intermediate: true, force: options.force || this.force, keepVolumes };
      await runIntermediate(deps, (s) => this.rounds.untilSettled(held, mode, s), signal);
    });
  }

  /**
   * Runs a one-off plan (one-off-plans.ts) alone in the loop, also before start. `dropTarget`: a target
   * still unchanged at its end is dropped (leaving local mode: the next load brings the one to apply).
   */
  runPlan(build: BuildPlan, options: { dropTarget?: boolean } = {}): Promise<StepOutcome[]> {
    if (this.stopped) return Promise.reject(new BosunError('NOT_READY', 'the reconciler stopped'));
    return this.exclusive(async (signal) => {
      const before = this.target;
      const outcomes = await runOneOffPlan(this.oneOff, build, signal);
      if (options.dropTarget === true && this.target === before) this.target = undefined;
      return outcomes;
    });
  }

  /** `/v2/cleanup-volumes`: unused volumes bosun manages, of one app or all, as a one-off plan. */
  cleanupVolumes(appId: number | undefined): Promise<{ removed: string[] }> {
    const deps = { ...this.deps, runPlan: (b: BuildPlan) => this.runPlan(b), log: this.log };
    return cleanupVolumes({ ...deps, target: () => this.target }, appId);
  }

  /** Services stopped through the API stay stopped (as `running: false`) until released here. */
  holdStopped(appUuid: string, serviceName: string, stopped: boolean): void {
    this.heldStopped[stopped ? 'add' : 'delete'](serviceKey(appUuid, serviceName));
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
    // A target saved just before (a push, then `bosun plan`) is the one to show, not the one it replaces.
    if (target === undefined) await this.stored?.settled();
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
   * Resolves the next time the loop has nothing to do (converged, blocked, failed) and no long operation
   * runs, at once if so now; `afterRound` waits for a settle after that round (a trigger's effect).
   */
  whenSettled(options: { afterRound?: number } = {}): Promise<ReconcileStatus> {
    const applying = this.currentApply !== undefined || this.exclusiveJobs.pending;
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
      if (this.exclusiveJobs.pending) {
        await this.runExclusive();
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

  /** Queues `run` to go alone in the loop; a running apply gives way to it. */
  private exclusive<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.exclusiveJobs.add(run, () => {
      this.currentApply?.abort(new BosunError('CANCELLED', 'a user action takes over'));
      this.queue.nudge();
    });
  }

  private async runExclusive(): Promise<void> {
    const controller = this.beginApply();
    await this.exclusiveJobs.runNext(controller.signal);
    this.currentApply = undefined;
    this.queue.wake('action-done'); // back to the real target
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
