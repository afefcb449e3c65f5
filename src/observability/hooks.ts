/**
 * What other parts of bosun call to be counted, as small interfaces: the cloud binding and the log
 * shipper depend on these shapes only (main.ts hands them the agent's AgentMetrics), and tests can pass
 * `noMetrics`.
 */
export type LogLineOutcome = 'captured' | 'shipped' | 'dropped';

/** For the cloud binding: one call per target poll, per state report, and per body sent or received. */
export interface CloudMetrics {
  cloudPoll(outcome: 'ok' | 'not-modified' | 'error'): void;
  cloudReport(outcome: 'ok' | 'error'): void;
  cloudBytes(direction: 'sent' | 'received', bytes: number): void;
}

/** For log capture and shipping: `captured` when a line enters bosun, `shipped`/`dropped` at the backend. */
export interface LogMetrics {
  logLine(outcome: LogLineOutcome, count?: number): void;
}

export const noCloudMetrics: CloudMetrics = {
  cloudPoll: () => undefined,
  cloudReport: () => undefined,
  cloudBytes: () => undefined,
};

export const noLogMetrics: LogMetrics = { logLine: () => undefined };
