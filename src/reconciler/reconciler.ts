/**
 * The reconcile loop: observe → plan → execute, again, until the plan is empty and nothing blocks
 * (converged) or only blockers remain (then it sleeps until something can change: an engine event, a
 * backoff or hand-over deadline, a new target, a lock file change).
 *
 * One apply at a time and the latest target wins: a new target aborts the running apply (pulls
 * included) through its AbortSignal and the loop starts over. Level-triggered: every round re-observes,
 * so a crash, an engine restart or drift is handled by the same code as a normal update. The engine is
 * never polled; its event stream wakes the loop. Intermediate targets (restart, purge) run through the
 * same rounds, exclusively, then the loop resumes the real target.
 */
import type { CurrentState, TargetState } from '../domain/model.js';
import type { EngineAdapter, EngineEvent } from '../engine/port.js';
import type { DownloadTracker } from '../executor/downloads.js';
import { executePlan, type StepOutcome } from '../executor/execute-plan.js';
import type { PulledImageStore } from '../executor/ports.js';
import type { StepRunContext, StepRunner } from '../executor/step-runner.js';
import { planContext, type PlanContext } from '../planner/context.js';
import type { Plan, Step } from '../planner/steps.js';
import { KeyedBackoff, type BackoffOptions } from '../shared/backoff.js';
import type { Clock } from '../shared/clock.js';
import { BosunError, errorMessage, isBosunError, toBosunError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { holdBack, serviceOf } from './hold-back.js';
import { ExternalStopGrace } from './external-stops.js';
import { NoEffectTracker } from './no-effect.js';
import type { LockReader } from './observe.js';
import { lockKey, StaleLockTracker, userLockSignature } from './stale-locks.js';
import { computeStatus, type Phase, type ReconcileStatus } from './status.js';

export type PlanFn = (target: TargetState, current: CurrentState, ctx: PlanContext) => Plan;

export interface ReconcilerDeps {
  engine: EngineAdapter;
  observer: {
    observe(): Promise<CurrentState>;
    engineReconnected?(): void;
    /** Whether labels are within what the observer sees (its scope); events outside it are ignored. */
    covers?(labels: Record<string, string>): boolean;
  };
  /**
   * The stored target, validated and normalised whole (undefined when none was stored). Throws
   * VALIDATION_FAILED when it is malformed: then nothing of it is applied.
   */
  loadTarget?: () => Promise<TargetState | undefined>;
  plan: PlanFn;
  runner: StepRunner;
  locks: LockReader;
  images: PulledImageStore;
  downloads: DownloadTracker;
  clock: Clock;
  logger: Logger;
  /** Read every round, so config var changes apply without a restart. */
  settings: () => { lockOverride: boolean; localMode: boolean };
  /** Told each step's start and end (with the observation it was planned from), e.g. for system lines. */
  stepListener?: StepListener;
}

export interface StepListener {
  stepStarted(step: Step, current: CurrentState): void;
  stepEnded(outcome: StepOutcome, current: CurrentState): void;
}

export interface ReconcilerOptions {
  /** Steps run at once. */
  concurrency: number;
  /** Engine events within this window wake the loop once. */
  debounceMs: number;
  /** How often lock files are re-read while an update waits for a user lock (file reads only). */
  lockPollMs: number;
  /** Safety re-check while blocked on something no event announces. */
  blockedRecheckMs: number;
  /** See stale-locks.ts. */
  staleLockAfterMs: number;
  /** A container that dies this soon after the agent started it counts as a failure of its service. */
  crashWindowMs: number;
  /** A container stopped by someone else is left to them this long before the agent starts it. */
  externalStopGraceMs: number;
  /** The same successful steps planned this many rounds running means the plan does not converge. */
  noProgressRounds: number;
  /** An intermediate target (restart, purge) that has not converged by then fails. */
  intermediateTimeoutMs: number;
  backoff: Partial<BackoffOptions>;
  /** Waiting for an unreachable engine: first and longest pause between pings. */
  engineRetryMs: { base: number; cap: number };
  /** Epoch ms of the last boot (for services that need a reboot); undefined disables the rule. */
  bootTime: number | undefined;
  random: () => number;
}

export const DEFAULT_RECONCILER_OPTIONS: ReconcilerOptions = {
  concurrency: 4,
  debounceMs: 25,
  lockPollMs: 1_000,
  blockedRecheckMs: 60_000,
  staleLockAfterMs: 300_000,
  crashWindowMs: 10_000,
  externalStopGraceMs: 10_000,
  noProgressRounds: 3,
  intermediateTimeoutMs: 300_000,
  backoff: {},
  engineRetryMs: { base: 250, cap: 5_000 },
  bootTime: undefined,
  random: Math.random,
};

/** How a target is applied: the real one, or an intermediate one for a user action. */
interface ApplyMode {
  intermediate: boolean;
  force: boolean;
  /** Overrides the local-mode default (purge removes volumes even in local mode). */
  keepVolumes: boolean | undefined;
}

type Outcome =
  { kind: 'converged' } | { kind: 'blocked'; plan: Plan; staleDeadline: number | undefined };

/** An intermediate target waiting for its turn in the loop. */
interface ExclusiveJob {
  target: TargetState;
  mode: ApplyMode;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** What the reconciler last saw and aims at, with its status: a new object whenever any changed. */
export interface ReconcilerSnapshot {
  readonly status: ReconcileStatus;
  readonly target: TargetState | undefined;
  readonly current: CurrentState | undefined;
}

/** How long a step's echo events are expected. */
const ECHO_WINDOW_MS = 5_000;

/** Refused starts after which a container is treated as dead (and so replaced). */
const UNSTARTABLE_AFTER = 2;

const WAKING_CONTAINER_ACTIONS = new Set([
  'start',
  'die',
  'destroy',
  'stop',
  'oom',
  'pause',
  'unpause',
]);

export class Reconciler {
  private readonly options: ReconcilerOptions;
  private readonly log: Logger;
  private readonly backoff: KeyedBackoff;
  private readonly staleLocks: StaleLockTracker;
  private readonly noEffect: NoEffectTracker;
  private readonly externalStops: ExternalStopGrace;
  private target: TargetState | undefined;
  private force = false;
  private stopped = false;
  private started = false;
  private triggered = false;
  private wakeWaiter: (() => void) | undefined;
  private currentApply: AbortController | undefined;
  private readonly exclusiveJobs: ExclusiveJob[] = [];
  private wakeTimer: AbortController | undefined;
  private lockPoll: AbortController | undefined;
  private debouncing = false;
  /** Engine events received, and how many of them the last observation already covered. */
  private eventsSeen = 0;
  private eventsObserved = 0;
  private loopDone: Promise<void> = Promise.resolve();
  private unsubscribe: Array<() => void> = [];
  /** takeLock step id → the user-lock signature that refused it. */
  private readonly lockWaits = new Map<string, string>();
  /** pullImage step id → image, for the planner's failedPulls. */
  private readonly failedPulls = new Map<string, string>();
  /** `<appUuid>/<service>` → when the agent last started its container. */
  private readonly startedAt = new Map<string, number>();
  private readonly errors = new Map<string, string>();
  /** Container id or name → engine events our own successful steps will cause (see expectEchoes). */
  private readonly echoes = new Map<string, { actions: Set<string>; until: number }>();
  /** Container id or name → start attempts the engine refused in a row. */
  private readonly unstartable = new Map<string, number>();
  private readonly acting = new Map<string, 'Installing' | 'Starting' | 'Stopping'>();
  private lastCurrent: CurrentState | undefined;
  private lastPlan: Plan | undefined;
  private phase: Phase = 'starting';
  private applying = false;
  private rounds = 0;
  private lastAppliedAt: number | undefined;
  private lastProgressAt: number | undefined;
  private lastError: string | undefined;
  private statusCache: ReconcileStatus | undefined;
  private snapshotCache: ReconcilerSnapshot | undefined;
  /** `<appUuid>/<service>` the user stopped through the API: kept stopped in every target. */
  private readonly heldStopped = new Set<string>();
  /** Loads of the stored target run one after another, so the latest saved one is applied last. */
  private loading: Promise<void> = Promise.resolve();
  private readonly statusListeners = new Set<(status: ReconcileStatus) => void>();
  private readonly settleWaiters: Array<{ afterRound: number; resolve: () => void }> = [];

  constructor(
    private readonly deps: ReconcilerDeps,
    options: Partial<ReconcilerOptions> = {},
  ) {
    this.options = { ...DEFAULT_RECONCILER_OPTIONS, ...options };
    this.log = deps.logger.child({ component: 'reconciler' });
    this.backoff = new KeyedBackoff(deps.clock, this.options.backoff, this.options.random);
    this.staleLocks = new StaleLockTracker(this.options.staleLockAfterMs);
    this.noEffect = new NoEffectTracker(this.options.noProgressRounds);
    this.externalStops = new ExternalStopGrace(this.options.externalStopGraceMs);
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
      next: (event) => this.onEngineEvent(event),
      error: (err: unknown) => this.log.error('reconciler.events-failed', { err }),
    });
    this.unsubscribe.push(() => subscription.unsubscribe());
    this.unsubscribe.push(this.deps.downloads.onChange(() => this.publishStatus()));
    this.loopDone = this.loop();
    this.trigger('start');
  }

  /** A new target (already stored by the caller): cancels the running apply and starts over. */
  setTarget(target: TargetState, options: { force?: boolean } = {}): void {
    this.target = target;
    this.force = options.force ?? false;
    // Old failures were about the old target; the new one gets a fresh start.
    this.backoff.reset();
    this.lockWaits.clear();
    this.failedPulls.clear();
    this.currentApply?.abort(new BosunError('CANCELLED', 'a newer target arrived'));
    this.trigger('target');
  }

  /**
   * Apply the stored target soon (it was just saved, or POST /v1/update). The target is re-loaded: if
   * it changed, the running apply is cancelled and starts over on the new one (latest wins); if not,
   * the running apply goes on and only a forced request changes how it treats locks.
   */
  triggerApply(options: { force: boolean }): void {
    if (this.deps.loadTarget === undefined) {
      if (options.force) this.forceNow();
      this.trigger('request');
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
      this.wakeWaiter?.();
    });
  }

  /** Services stopped through the API stay stopped (as `running: false`) until released here. */
  holdStopped(appUuid: string, serviceName: string, stopped: boolean): void {
    const key = `${appUuid}/${serviceName}`;
    if (stopped) this.heldStopped.add(key);
    else this.heldStopped.delete(key);
  }

  /** In memory, no I/O: the status endpoints answer from this. */
  snapshot(): ReconcilerSnapshot {
    this.snapshotCache ??= {
      status: this.status(),
      target: this.target,
      current: this.lastCurrent,
    };
    return this.snapshotCache;
  }

  private forceNow(): void {
    this.force = true;
    this.lockWaits.clear();
    this.currentApply?.abort(new BosunError('CANCELLED', 'a forced apply was requested'));
  }

  private reload(force: boolean): void {
    const load = this.deps.loadTarget;
    if (load === undefined) return;
    this.loading = this.loading.then(async () => {
      try {
        const target = await load();
        if (target === undefined) return;
        if (this.target !== undefined && sameTarget(this.target, target)) {
          if (force) this.forceNow();
          this.trigger('request');
        } else {
          this.setTarget(target, { force });
        }
      } catch (err) {
        // A malformed stored target is reported and nothing of it is applied.
        const error = toBosunError(err, 'VALIDATION_FAILED');
        this.lastError = `the stored target was not applied: ${error.message}`;
        this.log.error('reconciler.target-load-failed', { err: error, code: error.code });
        this.publishStatus();
        if (this.target === undefined) this.settle('failed', false);
      }
    });
  }

  status(): ReconcileStatus {
    this.statusCache ??= this.computeStatus();
    return this.statusCache;
  }

  onStatus(listener: (status: ReconcileStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /**
   * Resolves the next time the loop has nothing to do (converged, blocked or failed), at once if it is
   * idle now. `afterRound` waits for a settle after that round (e.g. to see the effect of a trigger).
   */
  whenSettled(options: { afterRound?: number } = {}): Promise<ReconcileStatus> {
    const afterRound = options.afterRound ?? -1;
    const idle =
      !this.triggered && this.currentApply === undefined && this.exclusiveJobs.length === 0;
    const settledPhase =
      this.phase === 'converged' || this.phase === 'blocked' || this.phase === 'failed';
    if (idle && settledPhase && this.rounds > afterRound) return Promise.resolve(this.status());
    return new Promise((resolve) =>
      this.settleWaiters.push({ afterRound, resolve: () => resolve(this.status()) }),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.currentApply?.abort(new BosunError('CANCELLED', 'the agent is stopping'));
    this.wakeTimer?.abort();
    this.lockPoll?.abort();
    for (const off of this.unsubscribe.splice(0)) off();
    this.wakeWaiter?.();
    await this.loopDone;
    this.setPhase('stopped');
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
      if (!this.triggered) {
        await new Promise<void>((resolve) => (this.wakeWaiter = resolve));
        this.wakeWaiter = undefined;
        continue;
      }
      const target = this.target;
      if (target === undefined) {
        this.triggered = false; // nothing to apply until a target arrives
        this.settle('converged', false);
        continue;
      }
      await this.applyTarget(this.effective(target));
    }
  }

  /** The target with API-stopped services kept stopped. */
  private effective(target: TargetState): TargetState {
    if (this.heldStopped.size === 0) return target;
    const apps = Object.fromEntries(
      Object.entries(target.apps).map(([uuid, app]) => {
        const release = app.release;
        if (release === undefined) return [uuid, app];
        const services = Object.fromEntries(
          Object.entries(release.services).map(([name, service]) => [
            name,
            this.heldStopped.has(`${uuid}/${name}`) ? { ...service, running: false } : service,
          ]),
        );
        return [uuid, { ...app, release: { ...release, services } }];
      }),
    );
    return { ...target, apps };
  }

  private async applyTarget(target: TargetState): Promise<void> {
    this.cancelWakeups();
    const controller = new AbortController();
    this.currentApply = controller;
    this.applying = true;
    this.setPhase('applying');
    try {
      const outcome = await this.applyUntilSettled(
        target,
        { intermediate: false, force: this.force, keepVolumes: undefined },
        controller.signal,
      );
      this.lastError = undefined;
      if (outcome.kind === 'converged') {
        this.force = false;
        this.lastAppliedAt = this.deps.clock.now();
        this.backoff.succeed('apply');
        this.settle('converged', false);
      } else {
        this.scheduleWakeups(outcome.plan, outcome.staleDeadline);
        this.settle('blocked', true);
      }
    } catch (err) {
      if (controller.signal.aborted) return; // a newer target or an action took over; the loop goes on
      const error = toBosunError(err, 'APPLY_FAILED');
      const until = this.backoff.fail('apply', error.message);
      this.lastError = error.message;
      this.log.error('reconciler.apply-failed', {
        err: error,
        code: error.code,
        retryAt: new Date(until).toISOString(),
      });
      this.scheduleWake(until);
      this.settle('failed', true);
    } finally {
      this.currentApply = undefined;
    }
  }

  /** Rounds until the plan is empty; throws on abort or when the apply cannot go on. */
  private async applyUntilSettled(
    target: TargetState,
    mode: ApplyMode,
    signal: AbortSignal,
  ): Promise<Outcome> {
    let lastSignature = '';
    let repeats = 0;
    for (;;) {
      throwIfAborted(signal);
      this.triggered = false; // whatever happened before this observation is in it
      this.eventsObserved = this.eventsSeen;
      let current: CurrentState;
      try {
        current = await this.deps.observer.observe();
      } catch (err) {
        if (!isBosunError(err, 'ENGINE_UNREACHABLE')) throw err;
        await this.waitForEngine(signal);
        continue;
      }
      throwIfAborted(signal);
      const now = this.deps.clock.now();
      const staleness = this.staleLocks.update(current, now);
      const visible = this.reconcilerView(current, staleness.stale);
      const ctx = await this.planContext(target, mode, now);
      const backoffs = this.backoff.snapshot();
      const plan = holdBack(this.deps.plan(target, visible, ctx), {
        backoffs: this.externalStops.withGrace(backoffs, now),
        lockWaits: mode.force || ctx.lockOverride ? new Map() : this.lockWaits,
        lockSignature: (appId) => userLockSignature(visible.locks, appId),
      });
      this.rounds++;
      this.lastCurrent = current;
      this.lastPlan = plan;
      this.publishStatus();
      const locked = plan.blockers.find((b) => b.kind === 'locked');
      if (mode.intermediate && locked !== undefined) {
        // A user action is refused as a whole (423), not half done around the locked service.
        throw new BosunError('UPDATES_LOCKED', `Updates are locked: ${describeBlocker(locked)}`);
      }
      if (plan.steps.length === 0)
        return plan.blockers.length === 0
          ? { kind: 'converged' }
          : { kind: 'blocked', plan, staleDeadline: staleness.nextDeadline };

      // A step planned again right after it "succeeded" N rounds running had no effect: fail it.
      const noEffect = this.noEffect.planned(plan.steps);
      if (noEffect.length > 0) {
        for (const outcome of noEffect) {
          this.onStepEnd(outcome, visible);
          this.deps.stepListener?.stepEnded(outcome, visible);
        }
        continue;
      }
      const signature = plan.steps
        .map((s) => s.id)
        .sort()
        .join('\n');
      repeats = signature === lastSignature ? repeats + 1 : 0;
      lastSignature = signature;
      if (repeats >= this.options.noProgressRounds) {
        throw new BosunError(
          'APPLY_FAILED',
          `the plan does not converge: the same ${plan.steps.length} step(s) succeeded ${repeats + 1} rounds running`,
          {
            details: { steps: plan.steps.map((s) => s.id) },
          },
        );
      }
      this.log.debug('reconciler.plan', {
        steps: plan.steps.map((step) => step.id),
        blockers: plan.blockers.map((b) => b.kind),
      });
      this.log.info('reconciler.round', {
        round: this.rounds,
        steps: plan.steps.length,
        blockers: plan.blockers.length,
      });
      const runCtx = this.runContext(target, mode, ctx, staleness.stale);
      const result = await executePlan(
        plan.steps,
        (step, stepSignal) => this.deps.runner.run(step, stepSignal, runCtx),
        {
          concurrency: this.options.concurrency,
          signal,
          onStepStart: (step) => {
            this.onStepStart(step);
            this.deps.stepListener?.stepStarted(step, visible);
          },
          onStepEnd: (outcome) => {
            this.onStepEnd(outcome, visible);
            this.deps.stepListener?.stepEnded(outcome, visible);
          },
        },
      );
      this.noEffect.ran(result.outcomes);
      throwIfAborted(signal);
      if (!result.ok) repeats = 0;
      if (
        result.outcomes.some(
          (o) => o.status === 'failed' && isBosunError(o.error, 'ENGINE_UNREACHABLE'),
        )
      )
        await this.waitForEngine(signal);
    }
  }

  /**
   * The observation as the planner should see it: stale user locks dropped, and containers the engine
   * repeatedly refuses to start shown as dead. The latter happens after an engine restart interrupted a
   * start (`task … already exists`): such a container never starts again, but a new one does, and the
   * planner replaces dead containers.
   */
  private reconcilerView(current: CurrentState, stale: ReadonlySet<string>): CurrentState {
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
      locks: current.locks.filter((l) => !(l.heldBy === 'user' && stale.has(lockKey(l)))),
    };
  }

  private async planContext(
    target: TargetState,
    mode: ApplyMode,
    now: number,
  ): Promise<PlanContext> {
    const settings = this.deps.settings();
    const records = await this.deps.images.list();
    const targetImages = new Set(
      Object.values(target.apps).flatMap((a) =>
        Object.values(a.release?.services ?? {}).map((s) => s.image),
      ),
    );
    const targetImageIds: Record<string, string> = {};
    for (const r of records)
      if (r.engineId !== undefined && targetImages.has(r.name)) targetImageIds[r.name] = r.engineId;
    const backoffs = [...this.backoff.snapshot()].map(([key, e]) => ({
      key,
      until: e.until,
      error: e.lastError,
    }));
    const failedPulls = [...this.failedPulls].flatMap(([stepId, image]) => {
      const entry = this.backoff.active(stepId);
      return entry === undefined ? [] : [{ image, until: entry.until, error: entry.lastError }];
    });
    return planContext(now, {
      force: mode.force || this.force,
      lockOverride: settings.lockOverride,
      keepImages: settings.localMode || mode.intermediate,
      keepVolumes: mode.keepVolumes ?? settings.localMode,
      backoffs,
      failedPulls,
      pulledImages: records.flatMap((r) =>
        r.engineId === undefined ? [r.name] : [r.name, r.engineId],
      ),
      targetImageIds,
      bootTime: this.options.bootTime,
    });
  }

  private runContext(
    target: TargetState,
    mode: ApplyMode,
    ctx: PlanContext,
    stale: ReadonlySet<string>,
  ): StepRunContext {
    const apps = Object.values(target.apps);
    return {
      appIds: new Map(apps.map((a) => [a.uuid, a.appId])),
      targetCommits: new Map(
        apps.flatMap((a) => (a.release === undefined ? [] : [[a.uuid, a.release.commit] as const])),
      ),
      forceLocks: mode.force || ctx.force || ctx.lockOverride,
      staleLocks: stale,
    };
  }

  private onStepStart(step: Step): void {
    const service = serviceOf(step);
    if (step.appUuid === undefined || service === undefined) return;
    const word =
      step.kind === 'createContainer'
        ? 'Installing'
        : step.kind === 'startContainer'
          ? 'Starting'
          : step.kind === 'stopContainer'
            ? 'Stopping'
            : undefined;
    if (word === undefined) return;
    this.acting.set(`${step.appUuid}/${service}`, word);
    this.publishStatus();
  }

  private onStepEnd(outcome: StepOutcome, current: CurrentState): void {
    const { step, status, error } = outcome;
    const service = serviceOf(step);
    const serviceKey =
      step.appUuid !== undefined && service !== undefined
        ? `${step.appUuid}/${service}`
        : undefined;
    if (serviceKey !== undefined) this.acting.delete(serviceKey);
    if (status === 'ok') {
      this.expectEchoes(step);
      this.backoff.succeed(step.id);
      this.failedPulls.delete(step.id);
      if (serviceKey !== undefined) this.errors.delete(serviceKey);
      if (step.kind === 'startContainer') this.unstartable.delete(step.containerId);
      if (step.kind === 'startContainer' && serviceKey !== undefined)
        this.startedAt.set(serviceKey, this.deps.clock.now());
    } else if (status === 'failed' && error !== undefined) {
      const fields = { step: step.id, kind: step.kind, code: error.code, err: error };
      if (error.code === 'UPDATES_LOCKED' && step.kind === 'takeLock') {
        // Not a failure to back off from: wait until the user's locks change (polled cheaply).
        this.lockWaits.set(step.id, userLockSignature(current.locks, step.appId));
        this.log.warn('reconciler.updates-locked', fields);
      } else if (error.code === 'ENGINE_UNREACHABLE' || error.code === 'CANCELLED') {
        this.log.warn('reconciler.step-interrupted', fields);
      } else {
        const until = this.backoff.fail(step.id, error.message);
        if (step.kind === 'startContainer')
          this.unstartable.set(step.containerId, (this.unstartable.get(step.containerId) ?? 0) + 1);
        if (step.kind === 'pullImage') this.failedPulls.set(step.id, step.image);
        this.log.error('reconciler.step-failed', {
          ...fields,
          retryAt: new Date(until).toISOString(),
        });
      }
      if (serviceKey !== undefined) this.errors.set(serviceKey, error.message);
    }
    this.publishStatus();
  }

  private async waitForEngine(signal: AbortSignal): Promise<void> {
    const { base, cap } = this.options.engineRetryMs;
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(signal);
      try {
        await this.deps.engine.ping();
        if (attempt > 0) this.log.info('reconciler.engine-back', { attempts: attempt });
        this.setPhase('applying');
        return;
      } catch (err) {
        if (attempt === 0) this.log.warn('reconciler.engine-unreachable', { err });
        this.setPhase('waiting-for-engine');
      }
      await this.deps.clock.sleep(Math.min(cap, base * 2 ** Math.min(attempt, 20)), signal);
    }
  }

  // ───────────────────────────── exclusive actions ─────────────────────────────

  private async runExclusive(job: ExclusiveJob): Promise<void> {
    const controller = new AbortController();
    this.currentApply = controller;
    this.cancelWakeups();
    this.applying = true;
    this.setPhase('applying');
    try {
      await this.runIntermediate(this.effective(job.target), job.mode, controller.signal);
      job.resolve();
    } catch (err) {
      job.reject(err);
    } finally {
      this.currentApply = undefined;
      this.triggered = true; // back to the real target
    }
  }

  private async runIntermediate(
    target: TargetState,
    mode: ApplyMode,
    signal: AbortSignal,
  ): Promise<void> {
    const deadline = this.deps.clock.now() + this.options.intermediateTimeoutMs;
    for (;;) {
      const outcome = await this.applyUntilSettled(target, mode, signal);
      if (outcome.kind === 'converged') return;
      const now = this.deps.clock.now();
      if (now >= deadline)
        throw new BosunError(
          'APPLY_FAILED',
          `the action did not complete: ${outcome.plan.blockers.map((b) => b.kind).join(', ')}`,
        );
      const nextAt = Math.min(
        deadline,
        ...outcome.plan.blockers.map((b) =>
          'until' in b ? b.until : now + this.options.lockPollMs,
        ),
      );
      await this.deps.clock.sleep(Math.max(1, nextAt - now), signal);
    }
  }

  // ───────────────────────────── triggers ─────────────────────────────

  private trigger(reason: string): void {
    if (this.stopped) return;
    this.log.debug('reconciler.trigger', { reason });
    this.triggered = true;
    this.wakeWaiter?.();
  }

  private onEngineEvent(event: EngineEvent): void {
    if (event.type === 'reconnected') {
      this.deps.observer.engineReconnected?.();
      return this.trigger('engine-reconnected');
    }
    if (event.type === 'disconnected') return;
    if (event.type === 'container') {
      const action = event.action.split(':')[0] ?? '';
      const supervised =
        event.labels['io.balena.supervised'] !== undefined ||
        event.labels['io.resin.supervised'] !== undefined;
      if (!supervised || !(WAKING_CONTAINER_ACTIONS.has(action) || action === 'health_status'))
        return;
      if (!(this.deps.observer.covers?.(event.labels) ?? true)) return;
      if (action === 'die') {
        this.noteDeath(event.labels, event.exitCode);
        if (!this.isAgentStop(event.id, event.name, event.labels))
          this.externalStops.died(event.labels, event.name, this.deps.clock.now());
      }
      if (action === 'destroy') this.externalStops.destroyed(event.labels, event.name);
      if (this.isEcho(event.id, event.name, action)) return;
    } else if (event.action !== 'destroy' || !this.wasObserved(event.type, event.id)) {
      // Only the loss of a network or volume we saw matters (these events carry no labels).
      return;
    }
    this.eventsSeen++;
    if (this.debouncing) return;
    this.debouncing = true;
    void this.deps.clock.sleep(this.options.debounceMs).then(() => {
      this.debouncing = false;
      // Events that arrived before the last observation began are in it (mostly the echo of our
      // own steps): waking for them would only cost a round of engine requests.
      if (this.eventsSeen > this.eventsObserved) this.trigger('engine-event');
    });
  }

  /**
   * The engine reports our own steps back as events, usually just after the next observation began;
   * waking for them would cost a round of engine requests for nothing. Each step that succeeded expects
   * exactly its own echoes (a start expects `start`, not the `die` of a container that then exits), each
   * consumed once, and only for a short while.
   */
  private expectEchoes(step: Step): void {
    let actions: string[];
    if (step.kind === 'startContainer') actions = ['start'];
    else if (step.kind === 'stopContainer') actions = ['kill', 'die', 'stop'];
    else if (step.kind === 'removeContainer') actions = ['destroy'];
    else return;
    const now = this.deps.clock.now();
    for (const [ref, echo] of this.echoes) if (echo.until < now) this.echoes.delete(ref);
    this.echoes.set(step.containerId, { actions: new Set(actions), until: now + ECHO_WINDOW_MS });
  }

  private isEcho(id: string, name: string | undefined, action: string): boolean {
    for (const ref of [id, name]) {
      const echo = ref === undefined ? undefined : this.echoes.get(ref);
      if (echo === undefined || echo.until < this.deps.clock.now() || !echo.actions.has(action))
        continue;
      echo.actions.delete(action);
      return true;
    }
    return false;
  }

  /** A `die` the agent caused: its stop step is running, or succeeded and awaits its echo. */
  private isAgentStop(
    id: string,
    name: string | undefined,
    labels: Record<string, string>,
  ): boolean {
    const key = `${labels['io.balena.app-uuid'] ?? ''}/${labels['io.balena.service-name'] ?? ''}`;
    if (this.acting.get(key) === 'Stopping') return true;
    const now = this.deps.clock.now();
    return [id, name].some((ref) => {
      const echo = ref === undefined ? undefined : this.echoes.get(ref);
      return echo !== undefined && echo.until >= now && echo.actions.has('die');
    });
  }

  private wasObserved(type: 'image' | 'network' | 'volume', id: string): boolean {
    const current = this.lastCurrent;
    if (current === undefined) return true;
    if (type === 'network') return current.networks.some((n) => n.id === id || n.engineName === id);
    if (type === 'volume') return current.volumes.some((v) => v.engineName === id);
    return false;
  }

  /**
   * A container that exits with an error right after the agent started it makes its service back
   * off. Exits by signal (137, 143: someone stopped or killed it) are not the service's fault.
   */
  private noteDeath(labels: Record<string, string>, exitCode: number | undefined): void {
    if (exitCode === undefined || exitCode === 0 || exitCode === 137 || exitCode === 143) return;
    const appUuid = labels['io.balena.app-uuid'];
    const service = labels['io.balena.service-name'];
    if (appUuid === undefined || service === undefined) return;
    const key = `${appUuid}/${service}`;
    const started = this.startedAt.get(key);
    if (started === undefined || this.deps.clock.now() - started > this.options.crashWindowMs)
      return;
    this.startedAt.delete(key);
    const until = this.backoff.fail(key, 'the container exited right after it was started');
    this.log.warn('reconciler.service-crashed', {
      app: appUuid,
      service,
      retryAt: new Date(until).toISOString(),
    });
  }

  private scheduleWakeups(plan: Plan, staleDeadline: number | undefined): void {
    const now = this.deps.clock.now();
    const timed = plan.blockers.flatMap((b) => ('until' in b ? [b.until] : []));
    if (staleDeadline !== undefined) timed.push(staleDeadline);
    // Blockers no event announces get a slow safety re-check; reboot waits for the reboot.
    const untimed = plan.blockers.some(
      (b) => !('until' in b) && b.kind !== 'locked' && b.kind !== 'rebootRequired',
    );
    if (untimed) timed.push(now + this.options.blockedRecheckMs);
    if (timed.length > 0) this.scheduleWake(Math.min(...timed));
    if (plan.blockers.some((b) => b.kind === 'locked') || this.lockWaits.size > 0)
      this.startLockPoll();
  }

  private scheduleWake(at: number): void {
    this.wakeTimer?.abort();
    const controller = new AbortController();
    this.wakeTimer = controller;
    const delay = Math.max(0, at - this.deps.clock.now());
    this.deps.clock.sleep(delay, controller.signal).then(
      () => this.trigger('timer'),
      () => undefined,
    );
  }

  /** Re-reads the lock files (no engine requests) until the user locks change, then wakes the loop. */
  private startLockPoll(): void {
    if (this.lockPoll !== undefined) return;
    const controller = new AbortController();
    this.lockPoll = controller;
    const baseline = userLockSignature(this.lastCurrent?.locks ?? []);
    void (async () => {
      try {
        for (;;) {
          await this.deps.clock.sleep(this.options.lockPollMs, controller.signal);
          const locks = await this.deps.locks.list();
          if (userLockSignature(locks) !== baseline) break;
        }
        if (this.lockPoll === controller) this.lockPoll = undefined;
        this.trigger('locks-changed');
      } catch (err) {
        if (!controller.signal.aborted) this.log.warn('reconciler.lock-poll-failed', { err });
        if (this.lockPoll === controller) this.lockPoll = undefined;
      }
    })();
  }

  private cancelWakeups(): void {
    this.wakeTimer?.abort();
    this.wakeTimer = undefined;
    this.lockPoll?.abort();
    this.lockPoll = undefined;
  }

  // ───────────────────────────── status ─────────────────────────────

  private settle(phase: Phase, applying: boolean): void {
    this.applying = applying;
    this.setPhase(phase);
    if (this.triggered) return; // more to do right away: not settled yet
    for (const waiter of [...this.settleWaiters]) {
      if (this.rounds <= waiter.afterRound) continue;
      this.settleWaiters.splice(this.settleWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  private setPhase(phase: Phase): void {
    this.phase = phase;
    this.publishStatus();
  }

  private publishStatus(): void {
    this.lastProgressAt = this.deps.clock.now(); // every publication is progress (health: stuck rounds)
    this.statusCache = undefined;
    this.snapshotCache = undefined;
    if (this.statusListeners.size === 0) return;
    const status = this.status();
    for (const listener of this.statusListeners) {
      try {
        listener(status);
      } catch (err) {
        this.log.error('reconciler.status-listener-failed', { err: errorMessage(err) });
      }
    }
  }

  private computeStatus(): ReconcileStatus {
    return computeStatus({
      target: this.target,
      current: this.lastCurrent,
      plan: this.lastPlan,
      downloads: this.deps.downloads.list(),
      acting: this.acting,
      errors: this.errors,
      applying: this.applying,
      phase: this.phase,
      rounds: this.rounds,
      lastAppliedAt: this.lastAppliedAt,
      lastError: this.lastError,
      lastProgressAt: this.lastProgressAt,
    });
  }
}

function throwIfAborted(signal: AbortSignal): void {
  if (!signal.aborted) return;
  const reason: unknown = signal.reason;
  throw reason instanceof BosunError
    ? reason
    : new BosunError('CANCELLED', 'cancelled', { cause: reason });
}

/** Whether two normalised targets ask for the same thing (they are plain data). */
function sameTarget(a: TargetState, b: TargetState): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function describeBlocker(b: Plan['blockers'][number]): string {
  return 'serviceName' in b && b.serviceName !== undefined
    ? `service ${b.serviceName} of app ${b.appUuid ?? ''} holds an update lock`
    : b.kind;
}
