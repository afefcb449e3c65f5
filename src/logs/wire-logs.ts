/**
 * The log subsystem as main.ts wires it: capture → spool → consumers (the `/v2/local/logs` stream fed
 * from each commit, the cloud shipper reading unacknowledged lines, the read-back endpoint querying).
 * main.ts hands in what it owns (engine, config.json values, the config-var getter, the cloud client's agent);
 * nothing here imports another adapter.
 */
import type { Agent } from 'node:http';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { LogMetrics } from '../observability/hooks.js';
import {
  CloudLogShipper,
  type BatchLimits,
  type LogStreamCredentials,
} from './cloud-log-shipper.js';
import { ContainerLogCapture } from './container-log-capture.js';
import { LocalLogBackend } from './local-log-backend.js';
import { createLocalLogsHandler, type LocalLogsHandler } from './local-logs-handler.js';
import { adoptLegacySpoolDir } from './legacy-spool-dir.js';
import { FileLogCursorStore } from './log-cursor-store.js';
import type { LogSink } from './log-sink.js';
import type { LogSource } from './log-source.js';
import {
  resolveLogSpoolSettings,
  type LogSpoolEnv,
  type LogSpoolSettings,
} from './log-spool-settings.js';
import { LogSpool, SYSTEM_SERVICE, type SpooledLine } from './log-spool.js';
import type { LogMessage } from './log-message.js';
import { createRecentLogs, type RecentLogs } from './recent-logs.js';
import { SpoolCursorStore } from './spool-cursor-store.js';
import { SinkSystemLogger, type SystemLogger } from './system-logger.js';

export interface WireLogsOptions {
  /** BOSUN_LOG_* as the agent's settings validated them at start. */
  env: LogSpoolEnv & { streamBatch: readonly number[]; streamBackoffMs: readonly number[] };
  dataDir: string;
  /** config.json `persistentLogging` (SUPERVISOR_PERSISTENT_LOGGING lands there; it needs a restart). */
  persistentLogging: boolean;
  localMode: boolean;
  source: LogSource;
  /** SUPERVISOR_LOG_CONTROL of the current target. */
  loggingEnabled: () => boolean;
  /** Read on every batch, so provisioning or a key change takes effect without a restart. */
  credentials: () => LogStreamCredentials | undefined;
  /** The cloud client's keep-alive agent for a URL (read per batch: the cloud binding starts later). */
  agentFor?: (url: URL) => Agent | undefined;
  scopeLabels: readonly string[];
  /** At most this many `/v2/local/logs` readers at once (BOSUN_MAX_LOG_READERS). */
  maxLogReaders?: number;
  /** Counts lines shipped (acknowledged by the cloud) and dropped by the spool's bounds. */
  metrics?: LogMetrics;
  /** Wraps the spool as capture and the system logger see it (metrics, the dashboard's live view). */
  wrapSink?: (sink: LogSink) => LogSink;
  clock: Clock;
  logger: Logger;
}

export interface WiredLogs {
  sink: LogSink;
  systemLogger: SystemLogger;
  localLogs: LocalLogsHandler;
  recentLogs: RecentLogs;
  spool: LogSpool;
  settings: LogSpoolSettings;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function wireLogs(options: WireLogsOptions): Promise<WiredLogs> {
  const { env, clock, logger } = options;
  const settings = resolveLogSpoolSettings(env, {
    dataDir: options.dataDir,
    persistent: options.persistentLogging,
  });
  if (settings.inRunDir) adoptLegacySpoolDir(settings.dir, options.dataDir, logger);
  const spool = new LogSpool({
    dir: settings.dir,
    limits: settings.limits,
    survivesPowerCut: settings.persistent,
    logger,
    now: () => clock.now(),
    onDropped: (lines) => options.metrics?.logLine('dropped', lines),
  });
  logger.info('logs.spool-opened', { dir: settings.dir, ...settings.limits, ...spool.usage() });
  const local = new LocalLogBackend({ maxReaders: options.maxLogReaders });
  feedLocalStream(spool, local);
  const sink = options.wrapSink?.(spool) ?? spool;
  const systemLogger = new SinkSystemLogger(sink, () => clock.now());
  const capture = new ContainerLogCapture({
    source: options.source,
    sink,
    systemLogger,
    scopeLabels: options.scopeLabels,
    cursors: new SpoolCursorStore(
      spool,
      await FileLogCursorStore.open(`${options.dataDir}/log-cursors.json`, { logger }),
      logger,
    ),
    clock,
    logger,
  });
  const shipper = new CloudLogShipper({
    spool,
    credentials: options.credentials,
    enabled: () => !options.localMode && options.loggingEnabled(),
    ...(options.agentFor === undefined ? {} : { agentFor: options.agentFor }),
    clock,
    logger,
    batch: batchFromEnv(env),
    backoff: backoffFromEnv(env),
    onShipped: (lines) => options.metrics?.logLine('shipped', lines),
  });
  return {
    sink: spool,
    systemLogger,
    localLogs: createLocalLogsHandler(local),
    recentLogs: createRecentLogs(spool),
    spool,
    settings,
    async start() {
      shipper.start();
      await capture.start();
    },
    async stop() {
      await capture.stop();
      spool.commit();
      await shipper.stop();
      logger.info('logs.spool-closed', {
        ...spool.usage(),
        acknowledgedBatches: shipper.acknowledgedBatches,
      });
      spool.close();
    },
  };
}

/**
 * `/v2/local/logs` readers get each commit's lines, read back from the spool (only while someone
 * listens: the stream has no history, docs/protocol.md#local-log-stream), with the service name the spool
 * keeps for them.
 */
function feedLocalStream(spool: LogSpool, local: LocalLogBackend): void {
  let sent = spool.lastId;
  spool.onCommit(() => {
    if (local.readerCount === 0) {
      sent = spool.lastId;
      return;
    }
    for (;;) {
      const rows = spool.readAfter(sent, 1000, 4 * 1024 * 1024);
      if (rows.length === 0) return;
      for (const row of rows) {
        const message = JSON.parse(row.wire) as LogMessage;
        local.publish(
          row.service === SYSTEM_SERVICE ? message : { ...message, serviceName: row.service },
        );
      }
      sent = (rows[rows.length - 1] as SpooledLine).id;
    }
  });
}

/** BOSUN_LOG_STREAM_BATCH=`lines,bytes,ageMs`: tests and benchmarks size the batch in flight. */
function batchFromEnv(env: WireLogsOptions['env']): Partial<BatchLimits> {
  const [maxLines, maxBytes, maxAgeMs] = env.streamBatch;
  return {
    ...(maxLines === undefined ? {} : { maxLines }),
    ...(maxBytes === undefined ? {} : { maxBytes }),
    ...(maxAgeMs === undefined ? {} : { maxAgeMs }),
  };
}

/** BOSUN_LOG_STREAM_BACKOFF_MS=`base,max`; default upstream's 5 s doubling to 300 s. */
function backoffFromEnv(env: WireLogsOptions['env']): { baseMs: number; maxMs: number } {
  const [baseMs, maxMs] = env.streamBackoffMs;
  return { baseMs: baseMs ?? 5000, maxMs: maxMs ?? 300_000 };
}
