/**
 * Current state reports (docs/protocol.md#state-reports, docs/protocol.md#report-throttling):
 * `PATCH /device/v3/state` with only the top-level fields that changed since the last report the cloud
 * acknowledged, at most one every 10 s, gzipped when that is smaller (the API accepts gzip bodies:
 * recorded). Nothing changed ⇒ no request.
 *
 * A failed report is retried with backoff (15 s doubling, capped at the poll interval; Retry-After in
 * seconds honoured as a floor) and, since the acknowledged state did not move, the next report carries
 * everything still unsent. [quirk] balena-supervisor reads Retry-After as milliseconds; bosun uses seconds,
 * the HTTP meaning.
 *
 * Hardware metrics are read at most every 5 minutes and only sent when they cross the thresholds of
 * docs/protocol.md#hardware-metrics (cpu 20 %, temperature 5 °C, memory 10 MiB; other fields when they
 * change). With SUPERVISOR_HARDWARE_METRICS=false they are sent once as null.
 */
import type { Clock } from '../shared/clock.js';
import { BosunError, errorMessage, isBosunError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { CloudStatusError, statusError, type CloudClient } from './cloud-client.js';
import type { HardwareMetrics } from './ports.js';
import { reportDiff, significantMetrics, type DeviceReport } from './report-builder.js';
import { WakeableSleep } from './wake-sleep.js';

export const MIN_REPORT_INTERVAL_MS = 10_000;
export const METRICS_INTERVAL_MS = 5 * 60_000;
/** How often the loop looks for changes nobody announced (IP addresses, metrics). */
const IDLE_CHECK_MS = 30_000;
const ERROR_BASE_MS = 15_000;

const METRIC_KEYS: readonly (keyof HardwareMetrics)[] = [
  'cpu_usage',
  'memory_usage',
  'memory_total',
  'storage_usage',
  'storage_total',
  'storage_block_device',
  'cpu_temp',
  'cpu_id',
];

export interface StateReporterDeps {
  client: Pick<CloudClient, 'request'>;
  uuid: () => string;
  key: () => string;
  clock: Clock;
  /** The full current report without metrics. */
  build: () => Promise<DeviceReport>;
  /** Reads hardware metrics (systeminformation); undefined when unavailable. */
  metrics: () => Promise<HardwareMetrics | undefined>;
  settings: () => { hardwareMetrics: boolean; pollIntervalMs: number };
  /** Counts each report sent by outcome (bosun_cloud_reports_total). */
  onReport?: (outcome: 'ok' | 'error') => void;
  logger: Logger;
}

export class StateReporter {
  private acked: DeviceReport = {};
  private metricsState: Partial<Record<keyof HardwareMetrics, string | number | null>> = {};
  private metricsReadAt: number | undefined;
  private lastSentAt: number | undefined;
  private retryAt: number | undefined;
  private readonly waker: WakeableSleep;
  private readonly log: Logger;
  failures = 0;
  lastError: BosunError | undefined;

  constructor(private readonly deps: StateReporterDeps) {
    this.waker = new WakeableSleep(deps.clock);
    this.log = deps.logger.child({ component: 'cloud-report' });
  }

  /** Something changed: report soon (throttling still applies). */
  wake(): void {
    this.waker.wake();
  }

  /** What the cloud acknowledged so far (tests, status). */
  acknowledged(): Readonly<DeviceReport> {
    return this.acked;
  }

  async run(signal: AbortSignal): Promise<void> {
    for (;;) {
      const wait = this.waitBeforeNext();
      if (wait > 0) await this.deps.clock.sleep(wait, signal);
      const sent = await this.reportOnce();
      if (sent === 'nothing') await this.waker.sleep(IDLE_CHECK_MS, signal);
    }
  }

  /** How long throttling or backoff holds the next report back. */
  waitBeforeNext(): number {
    const now = this.deps.clock.now();
    const throttle =
      this.lastSentAt === undefined ? 0 : this.lastSentAt + MIN_REPORT_INTERVAL_MS - now;
    const backoff = this.retryAt === undefined ? 0 : this.retryAt - now;
    return Math.max(0, throttle, backoff);
  }

  /** Builds the report, sends the diff if any. Never throws. */
  async reportOnce(): Promise<'sent' | 'nothing' | 'failed'> {
    let diff: DeviceReport;
    try {
      const current = { ...(await this.deps.build()), ...(await this.currentMetrics()) };
      diff = reportDiff(current, this.acked);
    } catch (err) {
      this.log.warn('cloud.report-build-failed', { message: errorMessage(err) });
      return 'nothing';
    }
    if (Object.keys(diff).length === 0) return 'nothing';
    const now = this.deps.clock.now();
    this.lastSentAt = now;
    try {
      const answer = await this.deps.client.request({
        method: 'PATCH',
        path: '/device/v3/state',
        key: this.deps.key(),
        body: { [this.deps.uuid()]: diff },
        gzipBody: true,
      });
      if (answer.status < 200 || answer.status >= 300)
        throw statusError(answer, 'PATCH /device/v3/state');
      this.acked = { ...this.acked, ...diff };
      this.deps.onReport?.('ok');
      if (this.failures > 0)
        this.log.info('cloud.report-recovered', { afterFailures: this.failures });
      this.failures = 0;
      this.lastError = undefined;
      this.retryAt = undefined;
      this.log.debug('cloud.reported', { fields: Object.keys(diff) });
      return 'sent';
    } catch (err) {
      this.deps.onReport?.('error');
      this.failures += 1;
      this.lastError = isBosunError(err)
        ? err
        : new BosunError('CLOUD_ERROR', errorMessage(err), { cause: err });
      const backoff = Math.min(
        this.deps.settings().pollIntervalMs,
        ERROR_BASE_MS * 2 ** Math.min(this.failures - 1, 20),
      );
      const retryAfter = err instanceof CloudStatusError ? err.retryAfterSeconds : undefined;
      this.retryAt =
        now + (retryAfter === undefined ? backoff : Math.max(backoff, retryAfter * 1000));
      this.log.warn('cloud.report-failed', {
        code: this.lastError.code,
        message: this.lastError.message,
        failures: this.failures,
        retryInMs: this.retryAt - now,
      });
      return 'failed';
    }
  }

  /** Metric fields for the current report: re-read at most every 5 min, kept in between. */
  private async currentMetrics(): Promise<
    Partial<Record<keyof HardwareMetrics, string | number | null>>
  > {
    if (!this.deps.settings().hardwareMetrics) {
      return Object.fromEntries(METRIC_KEYS.map((k) => [k, null]));
    }
    const now = this.deps.clock.now();
    if (this.metricsReadAt === undefined || now - this.metricsReadAt >= METRICS_INTERVAL_MS) {
      this.metricsReadAt = now;
      const fresh = await this.deps.metrics().catch((err: unknown) => {
        this.log.debug('cloud.metrics-failed', { message: errorMessage(err) });
        return undefined;
      });
      if (fresh !== undefined) {
        const reported = Object.fromEntries(METRIC_KEYS.map((k) => [k, this.acked[k]]));
        this.metricsState = { ...this.metricsState, ...significantMetrics(fresh, reported) };
      }
    }
    return this.metricsState;
  }
}
