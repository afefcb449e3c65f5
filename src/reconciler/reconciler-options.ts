/**
 * What the reconciler is built from (its ports and the planner) and the knobs of its loop, with the
 * defaults the agent runs with.
 */
import type { RoundObserver } from './round-observer.js';
import type { SupervisorNetworkSpec } from '../domain/context.js';
import type { CurrentState, TargetState } from '../domain/model.js';
import type { EngineAdapter } from '../engine/port.js';
import type { DownloadTracker } from '../executor/downloads.js';
import type { PulledImageStore } from '../executor/ports.js';
import type { StepRunner } from '../executor/step-runner.js';
import type { BackoffOptions } from '../shared/backoff.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { LockReader } from './observe.js';
import type { PlanFn, ReconcileSettings, StepListener, StorageFactsSource } from './rounds.js';
import type { ReleaseChecks } from './release-checks.js';

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
  settings: () => ReconcileSettings;
  /** Told each step's start and end (with the observation it was planned from), e.g. for system lines. */
  stepListener?: StepListener;
  /** Told each round's plan, duration and step outcomes (metrics, the dashboard's current plan). */
  roundObserver?: RoundObserver;
  /** Measures the disk preflight's inputs before each plan (storage-observer.ts); none: no preflight. */
  storage?: StorageFactsSource | undefined;
  /** Health-gated rollback (optional: tests and intermediate-only uses run without). */
  releaseChecks?: ReleaseChecks;
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
  /** The supervisor network the plans create when it is missing; undefined: not managed (tests). */
  supervisorNetwork: SupervisorNetworkSpec | undefined;
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
  supervisorNetwork: undefined,
  random: Math.random,
};
