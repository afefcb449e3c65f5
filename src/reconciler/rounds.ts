/**
 * Rounds: observe → plan → execute, again, until the plan is empty (converged) or only blockers remain.
 * Each round re-observes (level-triggered), so a crash, an engine restart or drift is handled by the same
 * code as a normal update. Long operations (downloads) are handed to the tracker and do not hold the
 * round; the planner sees them in progress and their end wakes the loop.
 */
import { noRoundObserver, type RoundObserver } from './round-observer.js';
import type { SupervisorNetworkSpec } from '../domain/context.js';
import type { CurrentState, TargetState } from '../domain/model.js';
import type { UpdateWindow } from '../domain/update-window.js';
import type { EngineAdapter } from '../engine/port.js';
import { executePlan, type StepOutcome } from '../executor/execute-plan.js';
import {
  isLongStep,
  type LongOperationOutcome,
  type LongOperations,
} from '../executor/long-operations.js';
import type { PulledImageStore } from '../executor/ports.js';
import type { StepRunContext, StepRunner } from '../executor/step-runner.js';
import {
  planContext,
  type Plan,
  type PlanContext,
  type Step,
  type StorageFacts,
} from '../planner/index.js';
import type { Clock } from '../shared/clock.js';
import { BosunError, isBosunError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { EngineWakes } from './engine-wakes.js';
import type { ReleaseChecks } from './release-checks.js';
import { NoEffectTracker } from './no-effect.js';
import { keyOf, type FailureMemory } from './failure-memory.js';
import type { StaleLockTracker } from './stale-locks.js';
import type { StatusBoard } from './status-board.js';
import type { WakeQueue } from './wake-queue.js';

/** The config the rounds read each time they plan (it may change between rounds). */
export interface ReconcileSettings {
  lockOverride: boolean;
  localMode: boolean;
  /** SUPERVISOR_UPDATE_WINDOW with its zone; undefined: disruptive steps may run any time. */
  updateWindow?: UpdateWindow | undefined;
}

export type PlanFn = (target: TargetState, current: CurrentState, ctx: PlanContext) => Plan;

/** Told each step's start and end with the observation it was planned from (e.g. system lines). */
export interface StepListener {
  stepStarted(step: Step, current: CurrentState): void;
  stepEnded(outcome: StepOutcome, current: CurrentState): void;
}

/** The disk preflight's measurements (storage-observer.ts); undefined facts mean no preflight. */
export interface StorageFactsSource {
  facts(target: TargetState, current: CurrentState): Promise<StorageFacts | undefined>;
}

/** How a target is applied: the real one, or an intermediate one for a user action. */
export interface ApplyMode {
  intermediate: boolean;
  force: boolean;
  /** Overrides the local-mode default (purge removes volumes even in local mode). */
  keepVolumes: boolean | undefined;
}

export type Outcome =
  { kind: 'converged' } | { kind: 'blocked'; plan: Plan; staleDeadline: number | undefined };

export interface RoundDeps {
  engine: EngineAdapter;
  observer: { observe(): Promise<CurrentState>; noteStep?(step: Step): void };
  plan: PlanFn;
  runner: StepRunner;
  images: PulledImageStore;
  clock: Clock;
  settings: () => ReconcileSettings;
  log: Logger;
  queue: WakeQueue;
  failures: FailureMemory;
  staleLocks: StaleLockTracker;
  operations: LongOperations;
  board: StatusBoard;
  engineWakes: EngineWakes;
  stepListener?: StepListener | undefined;
  roundObserver?: RoundObserver | undefined;
  storage?: StorageFactsSource | undefined;
  releaseChecks?: ReleaseChecks | undefined;
}

export interface RoundOptions {
  concurrency: number;
  noProgressRounds: number;
  engineRetryMs: { base: number; cap: number };
  bootTime: number | undefined;
  supervisorNetwork: SupervisorNetworkSpec | undefined;
}

export class Rounds {
  private readonly noEffect: NoEffectTracker;

  constructor(
    private readonly deps: RoundDeps,
    private readonly options: RoundOptions,
  ) {
    this.noEffect = new NoEffectTracker(options.noProgressRounds);
  }

  /** Rounds until the plan is empty; throws on abort or when the apply cannot go on. */
  async untilSettled(target: TargetState, mode: ApplyMode, signal: AbortSignal): Promise<Outcome> {
    const { deps } = this;
    let lastSignature = '';
    let repeats = 0;
    for (;;) {
      throwIfAborted(signal);
      const roundStarted = deps.clock.now();
      const observer = deps.roundObserver ?? noRoundObserver;
      deps.queue.take(); // whatever happened before this observation is in it
      let current: CurrentState;
      try {
        current = await deps.observer.observe();
      } catch (err) {
        if (!isBosunError(err, 'ENGINE_UNREACHABLE')) throw err;
        await this.waitForEngine(signal);
        continue;
      }
      throwIfAborted(signal);
      const now = deps.clock.now();
      const staleness = deps.staleLocks.update(current, now);
      const visible = this.withOperations(deps.failures.view(current, staleness.stale));
      const ctx = await this.planContext(target, mode, now, visible);
      const plan = deps.plan(target, visible, ctx);
      // Health-gated rollback watches the real target's rounds (not a user action's).
      if (!mode.intermediate) deps.releaseChecks?.observed(target, current, plan);
      deps.board.rounds++;
      deps.board.lastCurrent = current;
      deps.board.lastPlan = plan;
      deps.board.publish();
      observer.planned(plan);
      const locked = plan.blockers.find((b) => b.kind === 'locked');
      if (mode.intermediate && locked !== undefined) {
        // A user action is refused as a whole (423), not half done around the locked service.
        throw new BosunError('UPDATES_LOCKED', `Updates are locked: ${describeBlocker(locked)}`);
      }
      if (plan.steps.length === 0) {
        observer.roundEnded(deps.clock.now() - roundStarted);
        return plan.blockers.length === 0
          ? { kind: 'converged' }
          : { kind: 'blocked', plan, staleDeadline: staleness.nextDeadline };
      }

      // A step planned again right after it "succeeded" N rounds running had no effect: fail it.
      const noEffect = this.noEffect.planned(plan.steps);
      if (noEffect.length > 0) {
        for (const outcome of noEffect) this.onStepEnd(outcome, visible);
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
          { details: { steps: plan.steps.map((s) => s.id) } },
        );
      }
      deps.log.debug('reconciler.plan', {
        steps: plan.steps.map((step) => step.id),
        blockers: plan.blockers.map((b) => b.kind),
      });
      deps.log.info('reconciler.round', {
        round: deps.board.rounds,
        steps: plan.steps.length,
        blockers: plan.blockers.length,
      });
      const runCtx = runContext(target, mode, ctx, staleness.stale);
      const result = await executePlan(
        plan.steps,
        (step, stepSignal) => {
          if (!isLongStep(step)) return deps.runner.run(step, stepSignal, runCtx);
          // Not awaited: the round goes on and ends without it; its end wakes the loop.
          deps.operations.start(step, (opSignal) => deps.runner.run(step, opSignal, runCtx));
          return Promise.resolve('started' as const);
        },
        {
          concurrency: this.options.concurrency,
          signal,
          onStepStart: (step) => this.onStepStart(step, visible),
          onStepEnd: (outcome) => this.onStepEnd(outcome, visible),
        },
      );
      observer.roundEnded(deps.clock.now() - roundStarted);
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
   * What a round would plan now for `target`, acting on nothing: one observation (engine reads only),
   * the failure memory and stale locks as they are (stale-lock clocks are not started; the failure
   * view only forgets containers that are gone, as the next round would), `settings` overriding the
   * current config (a previewed target brings its own config vars).
   */
  async preview(
    target: TargetState,
    settings: Partial<ReconcileSettings> = {},
  ): Promise<{ plan: Plan; current: CurrentState; needBytes: Readonly<Record<string, number>> }> {
    const { deps } = this;
    const observed = await deps.observer.observe();
    const now = deps.clock.now();
    const stale = deps.staleLocks.peek(observed, now);
    const current = this.withOperations(deps.failures.view(observed, stale));
    const mode: ApplyMode = { intermediate: false, force: false, keepVolumes: undefined };
    const ctx = await this.planContext(target, mode, now, current, settings);
    const needBytes = ctx.storage?.needBytes ?? {};
    return { plan: deps.plan(target, current, ctx), current, needBytes };
  }

  /**
   * Long operations in flight, as the planner must see them: downloads even before the runner reported
   * them, and containers whose stop is still running (`stopping`, so the stop is not planned again).
   */
  private withOperations(current: CurrentState): CurrentState {
    const inFlight = this.deps.operations.inFlight();
    const pending = inFlight.flatMap((step) =>
      step.kind === 'pullImage' && !current.downloads.some((d) => d.image === step.image)
        ? [{ image: step.image, progress: undefined }]
        : [],
    );
    const stops = new Set(
      inFlight.flatMap((step) => (step.kind === 'stopContainer' ? [step.containerId] : [])),
    );
    if (pending.length === 0 && stops.size === 0) return current;
    return {
      ...current,
      downloads: [...current.downloads, ...pending],
      containers: current.containers.map((c) =>
        stops.has(c.id) || stops.has(c.name) ? { ...c, stopping: true } : c,
      ),
    };
  }

  private async planContext(
    target: TargetState,
    mode: ApplyMode,
    now: number,
    current: CurrentState,
    overrides: Partial<ReconcileSettings> = {},
  ): Promise<PlanContext> {
    const settings = { ...this.deps.settings(), ...overrides };
    const storage = await this.deps.storage?.facts(target, current);
    const records = await this.deps.images.list();
    const wanted = targetImages(target);
    const targetImageIds: Record<string, string> = {};
    for (const r of records)
      if (r.engineId !== undefined && wanted.has(r.name)) targetImageIds[r.name] = r.engineId;
    return planContext(now, {
      force: mode.force,
      lockOverride: settings.lockOverride,
      keepImages: settings.localMode || mode.intermediate,
      keepVolumes: mode.keepVolumes ?? settings.localMode,
      ...this.deps.failures.planInputs(),
      pulledImages: records.flatMap((r) =>
        r.engineId === undefined ? [r.name] : [r.name, r.engineId],
      ),
      targetImageIds,
      protectedImages: this.deps.releaseChecks?.protectedImages() ?? [],
      bootTime: this.options.bootTime,
      storage,
      supervisorNetwork: this.options.supervisorNetwork,
      // A user action (restart, purge, stop…) is an explicit request for now: it ignores the window.
      updateWindow: mode.intermediate ? undefined : settings.updateWindow,
    });
  }

  private onStepStart(step: Step, current: CurrentState): void {
    this.deps.stepListener?.stepStarted(step, current);
    const key = keyOf(step);
    if (key === undefined) return;
    const word =
      step.kind === 'createContainer'
        ? 'Installing'
        : step.kind === 'startContainer'
          ? 'Starting'
          : step.kind === 'stopContainer'
            ? 'Stopping'
            : undefined;
    if (word === undefined) return;
    this.deps.board.acting.set(key, word);
    this.deps.board.publish();
  }

  /** A step (or a long operation) ended: the failure memory learns how; the status shows it. */
  onStepEnd(outcome: StepOutcome, current: CurrentState): void {
    const key = keyOf(outcome.step);
    if (key !== undefined && outcome.status !== 'started') this.deps.board.acting.delete(key);
    if (outcome.status !== 'started') this.deps.observer.noteStep?.(outcome.step);
    if (outcome.status === 'ok') this.deps.engineWakes.expectEchoes(outcome.step);
    this.deps.failures.record(outcome, current);
    this.deps.stepListener?.stepEnded(outcome, current);
    this.deps.roundObserver?.stepEnded(outcome.step.kind, outcome.status);
    this.deps.board.publish();
  }

  /** A download (or other long operation) ended: remember how, and run a round for what it unblocks. */
  onOperationEnd(outcome: LongOperationOutcome): void {
    const current = this.deps.board.lastCurrent;
    if (current !== undefined) this.onStepEnd(outcome, current);
    const fields = { step: outcome.step.id, status: outcome.status };
    if (outcome.status === 'cancelled')
      return this.deps.log.info('reconciler.operation-cancelled', fields);
    this.deps.log.info('reconciler.operation-finished', fields);
    this.deps.queue.wake('operation-finished');
  }

  async waitForEngine(signal: AbortSignal): Promise<void> {
    const { base, cap } = this.options.engineRetryMs;
    const { engine, log, board, clock } = this.deps;
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(signal);
      try {
        await engine.ping();
        if (attempt > 0) log.info('reconciler.engine-back', { attempts: attempt });
        board.setPhase('applying');
        return;
      } catch (err) {
        if (attempt === 0) log.warn('reconciler.engine-unreachable', { err });
        board.setPhase('waiting-for-engine');
      }
      await clock.sleep(Math.min(cap, base * 2 ** Math.min(attempt, 20)), signal);
    }
  }
}

function runContext(
  target: TargetState,
  mode: ApplyMode,
  ctx: PlanContext,
  stale: StepRunContext['staleLocks'],
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

export function throwIfAborted(signal: AbortSignal): void {
  if (!signal.aborted) return;
  const reason: unknown = signal.reason;
  throw reason instanceof BosunError
    ? reason
    : new BosunError('CANCELLED', 'cancelled', { cause: reason });
}

export function targetImages(target: TargetState): Set<string> {
  return new Set(
    Object.values(target.apps).flatMap((a) =>
      Object.values(a.release?.services ?? {}).map((s) => s.image),
    ),
  );
}

/**
 * When a blocked apply should look again: the nearest blocker deadline (backoff, hand-over, a user lock
 * turning stale), or a slow safety re-check for blockers no event announces (a reboot waits for the
 * reboot; a user lock for the lock poll).
 */
export function nextRecheck(
  outcome: Extract<Outcome, { kind: 'blocked' }>,
  now: number,
  recheckMs: number,
): number | undefined {
  const { plan, staleDeadline } = outcome;
  const timed = plan.blockers.flatMap((b) => ('until' in b ? [b.until] : []));
  if (staleDeadline !== undefined) timed.push(staleDeadline);
  const untimed = plan.blockers.some(
    (b) => !('until' in b) && b.kind !== 'locked' && b.kind !== 'rebootRequired',
  );
  if (untimed) timed.push(now + recheckMs);
  return timed.length > 0 ? Math.min(...timed) : undefined;
}

function describeBlocker(b: Plan['blockers'][number]): string {
  return 'serviceName' in b && b.serviceName !== undefined
    ? `service ${b.serviceName} of app ${b.appUuid ?? ''} holds an update lock`
    : b.kind;
}
