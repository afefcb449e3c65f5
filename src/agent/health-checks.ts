/**
 * /v1/healthy as a list of named checks. Each says, when it fails, why, in words an operator can act on;
 * /v1/healthy fails with all the reasons. The agent's own checks are here; other parts of bosun (the
 * cloud binding's "polling stuck") add theirs to the same list in main.ts.
 */
import { errorMessage } from '../shared/errors.js';

/** What the checks read of the reconciler (its in-memory status; no I/O). */
export interface ReconcilerStatusSource {
  snapshot(): { status: { phase: string; lastProgressAt: number | undefined } };
}

export interface HealthResult {
  healthy: boolean;
  reason?: string;
}

export interface NamedHealthCheck {
  /** Short, stable name (`round-progress`), prefixed to the reason. */
  readonly name: string;
  run(): Promise<HealthResult> | HealthResult;
}

/**
 * Default bound for a round without any progress. The longest legitimate silent step is a container stop
 * with a long grace period, or an engine call under heavy I/O; pulls report progress and do not count.
 */
export const DEFAULT_STUCK_ROUND_MS = 10 * 60_000;

/** Phases in which the reconciler is working on a round (blocked, converged and failed rounds are over). */
const WORKING = new Set(['starting', 'applying']);

export function reconcilerRunning(reconciler: ReconcilerStatusSource): NamedHealthCheck {
  return {
    name: 'reconciler',
    run: () =>
      reconciler.snapshot().status.phase === 'stopped'
        ? { healthy: false, reason: 'the reconciler is stopped' }
        : { healthy: true },
  };
}

/** Fails when a round has shown no progress (round, step, phase, download progress) for `boundMs`. */
export function roundProgress(
  reconciler: ReconcilerStatusSource,
  now: () => number,
  boundMs: number,
): NamedHealthCheck {
  return {
    name: 'round-progress',
    run: () => {
      const { phase, lastProgressAt } = reconciler.snapshot().status;
      if (!WORKING.has(phase) || lastProgressAt === undefined) return { healthy: true };
      const silentMs = now() - lastProgressAt;
      if (silentMs <= boundMs) return { healthy: true };
      return {
        healthy: false,
        reason: `the reconcile round (phase ${phase}) has made no progress for ${Math.round(silentMs / 1000)} s (bound ${Math.round(boundMs / 1000)} s): an engine request or a step is stuck`,
      };
    },
  };
}

export function storeWritable(store: { probeWrite(): Promise<void> }): NamedHealthCheck {
  return {
    name: 'store-writable',
    run: async () => {
      try {
        await store.probeWrite();
        return { healthy: true };
      } catch (err) {
        return { healthy: false, reason: `the database cannot be written: ${errorMessage(err)}` };
      }
    },
  };
}

export function databaseFile(store: {
  fileProblem(): Promise<string | undefined>;
}): NamedHealthCheck {
  return {
    name: 'database-file',
    run: async () => {
      const problem = await store.fileProblem();
      return problem === undefined ? { healthy: true } : { healthy: false, reason: problem };
    },
  };
}

/** Runs every check (concurrently); a check that throws counts as failed, with its error. */
export async function runHealthChecks(
  checks: readonly NamedHealthCheck[],
): Promise<{ healthy: boolean; reasons: string[] }> {
  const results = await Promise.all(
    checks.map(async (check) => {
      try {
        const result = await check.run();
        return result.healthy ? undefined : `${check.name}: ${result.reason ?? 'failed'}`;
      } catch (err) {
        return `${check.name}: the check threw: ${errorMessage(err)}`;
      }
    }),
  );
  const reasons = results.filter((r): r is string => r !== undefined);
  return { healthy: reasons.length === 0, reasons };
}

/** The checks main.ts registers for the agent itself (the reconciler's own one is built into the facade). */
export function agentHealthChecks(deps: {
  reconciler: ReconcilerStatusSource;
  store: { probeWrite(): Promise<void>; fileProblem(): Promise<string | undefined> };
  now: () => number;
  stuckRoundMs?: number;
}): NamedHealthCheck[] {
  return [
    roundProgress(deps.reconciler, deps.now, deps.stuckRoundMs ?? DEFAULT_STUCK_ROUND_MS),
    storeWritable(deps.store),
    databaseFile(deps.store),
  ];
}
