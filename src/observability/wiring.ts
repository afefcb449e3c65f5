/**
 * Wires metrics and the dashboard for main.ts: one AgentMetrics (one registry) for the agent, the
 * reconciler hook that feeds both, the log tee that counts captured lines and keeps a live feed for
 * the dashboard in every mode, and the API options that serve /metrics and /dashboard.
 */
import type { ApiOptions } from '../api/app.js';
import { loadDashboardAssets } from '../api/dashboard-assets.js';
import type { DashboardView } from '../api/dashboard-types.js';
import { DashboardSource } from '../agent/dashboard-source.js';
import type { ReconcilerSnapshot } from '../agent/ports.js';
import { LocalLogBackend } from '../logs/local-log-backend.js';
import { createLocalLogsHandler } from '../logs/local-logs-handler.js';
import { truncateMessage } from '../logs/log-message.js';
import type { LogSink } from '../logs/log-sink.js';
import { roundObservers, type RoundObserver } from '../reconciler/round-observer.js';
import type { Clock } from '../shared/clock.js';
import { AgentMetrics } from './agent-metrics.js';

export interface ObservabilityDeps {
  version: string;
  localMode: boolean;
  clock: Clock;
  /** Late-bound: the reconciler is built after the engine, which already reports to the metrics. */
  snapshot: () => ReconcilerSnapshot;
  device: () => Promise<DashboardView['device']>;
}

export interface Observability {
  metrics: AgentMetrics;
  roundObserver: RoundObserver;
  /** Wraps the log router: every line is counted and also fed to the dashboard's live view. */
  logSink(router: LogSink): LogSink;
  apiOptions(): Promise<Pick<ApiOptions, 'metrics' | 'observeRequest' | 'dashboard'>>;
}

export function serviceStateCounts(snapshot: ReconcilerSnapshot): Map<string, number> {
  const counts = new Map<string, number>();
  for (const app of Object.values(snapshot.status.apps))
    for (const service of Object.values(app.services))
      counts.set(service.status, (counts.get(service.status) ?? 0) + 1);
  return counts;
}

export function wireObservability(deps: ObservabilityDeps): Observability {
  const metrics = new AgentMetrics({
    version: deps.version,
    localMode: deps.localMode,
    serviceStates: () => serviceStateCounts(deps.snapshot()),
  });
  // Its own fan-out, separate from /v2/local/logs (which is local mode only): no history, bounded
  // per reader, so an open dashboard never holds more than one reader's queue.
  const dashboardLogs = new LocalLogBackend();
  const dashboard = new DashboardSource({
    snapshot: deps.snapshot,
    device: deps.device,
    logs: createLocalLogsHandler(dashboardLogs),
    clock: deps.clock,
  });
  return {
    metrics,
    roundObserver: roundObservers(metrics, dashboard.roundObserver),
    logSink: (router) => ({
      publish: (message) => {
        metrics.logLine('captured');
        router.publish(message);
        dashboardLogs.publish(truncateMessage(message));
      },
    }),
    apiOptions: async () => ({
      metrics: () => metrics.render(),
      observeRequest: (request) => metrics.apiRequest(request),
      dashboard: { port: dashboard, assets: await loadDashboardAssets() },
    }),
  };
}
