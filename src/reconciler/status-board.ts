/**
 * What the loop publishes: its phase, round count, last plan and observation, the services being acted
 * on, and the waiters for "settled". The status itself is a pure function of these (status.ts), computed
 * lazily and cached until something changes, so the API reads it without I/O.
 */
import type { CurrentState, DownloadState, TargetState } from '../domain/model.js';
import type { ServiceKey } from '../domain/keys.js';
import type { Plan } from '../planner/index.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import {
  computeStatus,
  type Phase,
  type ReconcileStatus,
  type ReleaseCheckView,
} from './status.js';

/** What the reconciler last saw and aims at, with its status: a new object whenever any changed. */
export interface ReconcilerSnapshot {
  readonly status: ReconcileStatus;
  readonly target: TargetState | undefined;
  readonly current: CurrentState | undefined;
}

export type ActingWord = 'Installing' | 'Starting' | 'Stopping';

export interface StatusSources {
  target(): TargetState | undefined;
  downloads(): readonly DownloadState[];
  errors(): ReadonlyMap<ServiceKey, string>;
  /** Health-gated rollback's view per app uuid. */
  releaseChecks?(): ReadonlyMap<string, ReleaseCheckView>;
}

export class StatusBoard {
  phase: Phase = 'starting';
  applying = false;
  rounds = 0;
  lastAppliedAt: number | undefined;
  lastError: string | undefined;
  /** When the loop last showed progress (every publication is): /v1/healthy's stuck-round bound. */
  lastProgressAt: number | undefined;
  lastCurrent: CurrentState | undefined;
  lastPlan: Plan | undefined;
  readonly acting = new Map<ServiceKey, ActingWord>();
  private statusCache: ReconcileStatus | undefined;
  private snapshotCache: ReconcilerSnapshot | undefined;
  private readonly listeners = new Set<(status: ReconcileStatus) => void>();
  private readonly settleWaiters: Array<{ afterRound: number; resolve: () => void }> = [];

  constructor(
    private readonly sources: StatusSources,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  status(): ReconcileStatus {
    this.statusCache ??= computeStatus({
      target: this.sources.target(),
      current: this.lastCurrent,
      plan: this.lastPlan,
      downloads: this.sources.downloads(),
      acting: this.acting,
      errors: this.sources.errors(),
      // Before its first round the agent has not seen the engine: a target it holds is not yet known
      // to be applied (a freshly restarted agent must not answer 'applied' with no containers).
      applying: this.applying || (this.phase === 'starting' && this.sources.target() !== undefined),
      phase: this.phase,
      rounds: this.rounds,
      lastAppliedAt: this.lastAppliedAt,
      lastError: this.lastError,
      lastProgressAt: this.lastProgressAt,
      releaseChecks: this.sources.releaseChecks?.(),
    });
    return this.statusCache;
  }

  snapshot(): ReconcilerSnapshot {
    this.snapshotCache ??= {
      status: this.status(),
      target: this.sources.target(),
      current: this.lastCurrent,
    };
    return this.snapshotCache;
  }

  onStatus(listener: (status: ReconcileStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setPhase(phase: Phase): void {
    this.phase = phase;
    this.publish();
  }

  /** Something the status depends on changed: drop the caches and tell the listeners. */
  publish(): void {
    this.lastProgressAt = this.now();
    this.statusCache = undefined;
    this.snapshotCache = undefined;
    if (this.listeners.size === 0) return;
    const status = this.status();
    for (const listener of this.listeners) {
      try {
        listener(status);
      } catch (err) {
        this.log.error('reconciler.status-listener-failed', { err: errorMessage(err) });
      }
    }
  }

  get settledPhase(): boolean {
    return this.phase === 'converged' || this.phase === 'blocked' || this.phase === 'failed';
  }

  /** Resolves the next time `settle` is called with nothing left to do, after round `afterRound`. */
  whenSettled(afterRound: number, idleNow: boolean): Promise<ReconcileStatus> {
    if (idleNow && this.settledPhase && this.rounds > afterRound)
      return Promise.resolve(this.status());
    return new Promise((resolve) =>
      this.settleWaiters.push({ afterRound, resolve: () => resolve(this.status()) }),
    );
  }

  /** The loop has nothing to do right now (`busy`: more is already queued, or a download runs). */
  settle(phase: Phase, applying: boolean, busy: boolean): void {
    this.applying = applying;
    this.setPhase(phase);
    if (busy) return;
    for (const waiter of [...this.settleWaiters]) {
      if (this.rounds <= waiter.afterRound) continue;
      this.settleWaiters.splice(this.settleWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }
}
