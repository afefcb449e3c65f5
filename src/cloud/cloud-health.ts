/**
 * Health criteria of a managed device (docs/protocol.md#health), as named checks apart from the rest so they
 * merge into a list of checks easily:
 *
 * - target polling: unhealthy when the last successful poll is older than 2 × the poll interval (the
 *   clock starts when polling starts) — unless the device is offline (the last failures were the
 *   network's, or the connectivity check cannot reach the cloud's address). An offline device is not
 *   sick, and a watchdog restart would not bring the network back. But polling itself must go on: a poll
 *   in flight for longer than the window, or no poll started within it, is a stuck loop (offline or not),
 *   and a restart is what helps then.
 * - apply progress: unhealthy when the reconciler has been applying for 2 × the poll interval without
 *   downloading anything in that time (a download in progress is progress).
 */
import type { ReconcileStatus } from '../reconciler/status.js';
import type { Clock } from '../shared/clock.js';

/** The agent's named health check shape (src/agent/health-checks.ts). */
export interface NamedHealthCheck {
  readonly name: string;
  run(): { healthy: boolean; reason?: string };
}

export interface PollHealthSource {
  readonly startedAt: number;
  readonly lastSuccessAt: number | undefined;
  readonly offline: boolean;
  readonly lastError: { message: string } | undefined;
  /** When the poll now in flight started. */
  readonly inFlightSince: number | undefined;
  /** When the last poll started. */
  readonly lastAttemptAt: number | undefined;
}

function downloading(status: ReconcileStatus): boolean {
  return Object.values(status.apps).some((app) =>
    Object.values(app.services).some((s) => s.status === 'Downloading'),
  );
}

/** Follows the reconciler's status to know for how long it has applied without downloading. */
export class ApplyProgressWatch {
  private stuckSince: number | undefined;

  constructor(private readonly clock: Clock) {}

  observe(status: ReconcileStatus): void {
    if (status.phase !== 'applying' || downloading(status)) this.stuckSince = undefined;
    else this.stuckSince ??= this.clock.now();
  }

  /** ms applying without a download, 0 when not applying. */
  stuckFor(): number {
    return this.stuckSince === undefined ? 0 : this.clock.now() - this.stuckSince;
  }
}

export function cloudHealthChecks(deps: {
  clock: Clock;
  pollIntervalMs: () => number;
  /** Undefined until provisioning finished (no polling yet: nothing to judge). */
  poller: () => PollHealthSource | undefined;
  /** The connectivity check's state (`disconnected`: offline). */
  connectivity?: () => string;
  apply: ApplyProgressWatch;
}): NamedHealthCheck[] {
  return [
    {
      name: 'cloud-target-polling',
      run: () => {
        const poller = deps.poller();
        if (poller === undefined) return { healthy: true };
        const window = 2 * deps.pollIntervalMs();
        const now = deps.clock.now();
        if (poller.inFlightSince !== undefined && now - poller.inFlightSince > window)
          return {
            healthy: false,
            reason: `a target state poll has been in flight for ${Math.round((now - poller.inFlightSince) / 1000)} s, more than twice the poll interval`,
          };
        if (poller.offline || deps.connectivity?.() === 'disconnected') {
          const sinceAttempt = now - (poller.lastAttemptAt ?? poller.startedAt);
          if (sinceAttempt <= window) return { healthy: true };
          return {
            healthy: false,
            reason: `no target state poll started for ${Math.round(sinceAttempt / 1000)} s, more than twice the poll interval (the cloud is unreachable, but polling has stopped trying)`,
          };
        }
        const since = now - (poller.lastSuccessAt ?? poller.startedAt);
        if (since <= window) return { healthy: true };
        const last =
          poller.lastError === undefined ? '' : ` (last error: ${poller.lastError.message})`;
        return {
          healthy: false,
          reason: `no successful target state poll for ${Math.round(since / 1000)} s, more than twice the poll interval${last}`,
        };
      },
    },
    {
      name: 'apply-progress',
      run: () => {
        const stuck = deps.apply.stuckFor();
        const window = 2 * deps.pollIntervalMs();
        if (stuck < window) return { healthy: true };
        return {
          healthy: false,
          reason: `the apply has made no progress for ${Math.round(stuck / 1000)} s without downloading, more than twice the poll interval`,
        };
      },
    },
  ];
}
