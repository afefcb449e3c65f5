/**
 * Read-back for people on the device: the recent lines of one service, or of the system, straight from
 * the spool (so also lines the cloud never got, and lines from before a restart), optionally within a
 * time window. Bounded: at most MAX_RECENT_LINES per call.
 */
import type { LogMessage } from './log-message.js';
import { SYSTEM_SERVICE, type LogSpool } from './log-spool.js';

export const MAX_RECENT_LINES = 10_000;

export interface RecentLogsQuery {
  /** A service name, or undefined for system lines. */
  service?: string | undefined;
  /** Milliseconds since the epoch, inclusive. */
  since?: number | undefined;
  until?: number | undefined;
  limit?: number | undefined;
}

export type RecentLogs = (query: RecentLogsQuery) => LogMessage[];

export function createRecentLogs(spool: Pick<LogSpool, 'recent'>): RecentLogs {
  return (query) => {
    const service = query.service ?? SYSTEM_SERVICE;
    const rows = spool.recent({
      service,
      ...(query.since === undefined ? {} : { since: query.since }),
      ...(query.until === undefined ? {} : { until: query.until }),
      limit: Math.min(query.limit ?? 1000, MAX_RECENT_LINES),
    });
    return rows.map((row) => {
      const message = JSON.parse(row.wire) as LogMessage;
      return service === SYSTEM_SERVICE ? message : { ...message, serviceName: service };
    });
  };
}
