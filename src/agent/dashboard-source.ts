/**
 * Serves the dashboard from memory: the reconciler's snapshot, the last plan (kept by reference when
 * the reconciler reports a round; nothing else happens in the loop) and the device facts, which change
 * rarely and are cached so that a page polling every two seconds costs no host probing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DashboardPort, DashboardView } from '../api/dashboard-types.js';
import type { Plan } from '../planner/index.js';
import type { RoundObserver } from '../reconciler/round-observer.js';
import type { Clock } from '../shared/clock.js';
import { describeDashboard } from './dashboard-view.js';
import type { ReconcilerSnapshot } from './ports.js';

export interface DashboardSourceDeps {
  snapshot: () => ReconcilerSnapshot;
  device: () => Promise<DashboardView['device']>;
  logs: (req: IncomingMessage, res: ServerResponse) => void;
  clock: Clock;
  /** How long device facts are reused. */
  deviceTtlMs?: number;
}

export class DashboardSource implements DashboardPort {
  private lastPlan: Plan | undefined;
  private device: { value: Promise<DashboardView['device']>; at: number } | undefined;
  readonly roundObserver: RoundObserver = {
    planned: (plan) => {
      this.lastPlan = plan;
    },
    roundEnded: () => undefined,
    stepEnded: () => undefined,
  };

  constructor(private readonly deps: DashboardSourceDeps) {}

  async view(): Promise<DashboardView> {
    const now = this.deps.clock.now();
    if (this.device === undefined || now - this.device.at > (this.deps.deviceTtlMs ?? 10_000)) {
      const value = this.deps.device();
      // A failed probe is retried on the next view, not cached.
      value.catch(() => (this.device = undefined));
      this.device = { value, at: now };
    }
    return describeDashboard({
      snapshot: this.deps.snapshot(),
      plan: this.lastPlan,
      device: await this.device.value,
      now,
    });
  }

  logs(req: IncomingMessage, res: ServerResponse): void {
    this.deps.logs(req, res);
  }
}
