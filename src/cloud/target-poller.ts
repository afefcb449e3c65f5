/**
 * Target polling (docs/protocol.md#target-polling, docs/protocol.md#instant-updates).
 * `GET /device/v3/<uuid>/state` with the device key and the ETag of the last answer processed, so an
 * unchanged target costs a 304 and nothing more. The schedule is the poll interval (SUPERVISOR_POLL_INTERVAL)
 * plus a random jitter, so a fleet does not poll in lockstep; after an error the delay doubles from 15 s up
 * to the poll interval, and a `Retry-After` (seconds, the HTTP meaning) is honoured as a floor.
 * `pollNow()` (POST /v1/update) cuts the wait short.
 *
 * A restarted device with a target already stored waits a random part of the jitter window before its
 * first poll: a thousand devices coming back after a power cut must not all poll in the same second
 * (bench/cloud-fleet-restart.ts). A device with nothing stored polls at once: it has nothing to run.
 *
 * The ETag of a rejected target is kept too, so the same bad document is not downloaded again every poll;
 * a new release changes the ETag. A 304 without an ETag (openBalena's answer for an unknown device)
 * is not "unchanged": it is logged.
 */
import type { Clock } from '../shared/clock.js';
import { BosunError, errorMessage, isBosunError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { CloudStatusError, jsonOf, statusError, type CloudClient } from './cloud-client.js';
import { WakeableSleep } from './wake-sleep.js';

export const DEFAULT_JITTER_MS = 60_000;
const ERROR_BASE_MS = 15_000;

export interface PollSettings {
  pollIntervalMs: number;
  instantUpdates: boolean;
}

export type PollOutcome = 'unchanged' | 'accepted' | 'rejected' | 'unknown-device';

export interface TargetPollerDeps {
  client: Pick<CloudClient, 'request'>;
  uuid: () => string;
  key: () => string;
  clock: Clock;
  random: () => number;
  settings: () => PollSettings;
  /** Upper bound of the random delay added to each interval. */
  jitterMs?: number;
  /** Whether a target from this cloud is already stored (decides the first poll's delay). */
  hasStoredTarget: () => Promise<boolean>;
  /**
   * Validates, stores and hands a new target to the reconciler. Throws VALIDATION_FAILED when the target
   * is rejected (nothing stored), any other error when it could not be stored (retried).
   */
  accept: (document: unknown, options: { force: boolean }) => Promise<void>;
  /** Re-apply the stored target (a forced /v1/update with an unchanged target: retry past locks). */
  reapply: (options: { force: boolean }) => void;
  /** Counts each poll by outcome (bosun_cloud_polls_total): a 304 is `not-modified`, a 200 `ok`. */
  onPoll?: (outcome: PollMetricOutcome) => void;
  logger: Logger;
}

export type PollMetricOutcome = 'ok' | 'not-modified' | 'error';

const METRIC_OUTCOME: Record<PollOutcome, PollMetricOutcome> = {
  accepted: 'ok',
  rejected: 'ok',
  unchanged: 'not-modified',
  'unknown-device': 'not-modified',
};

export class TargetPoller {
  private etag: string | undefined;
  private readonly waker: WakeableSleep;
  private readonly log: Logger;
  private pendingForce = false;
  readonly startedAt: number;
  lastSuccessAt: number | undefined;
  /** Consecutive failed polls. */
  failures = 0;
  lastError: BosunError | undefined;
  /** Set while a poll is in flight (for the health check: a poll stuck longer than its timeout). */
  inFlightSince: number | undefined;
  lastOutcome: PollOutcome | undefined;
  /** When the current run of failed polls began; undefined while polls succeed. */
  failingSince: number | undefined;
  /** When the last poll started (the health check tells a stuck loop from an offline device by it). */
  lastAttemptAt: number | undefined;

  constructor(private readonly deps: TargetPollerDeps) {
    this.waker = new WakeableSleep(deps.clock);
    this.log = deps.logger.child({ component: 'cloud-poll' });
    this.startedAt = deps.clock.now();
  }

  /** The cloud could not be reached at the last attempt (network, DNS, TLS, timeout). */
  get offline(): boolean {
    return this.failures > 0 && isBosunError(this.lastError, 'CLOUD_UNREACHABLE');
  }

  /** POST /v1/update: poll now. */
  pollNow(options: { force: boolean }): void {
    if (options.force) this.pendingForce = true;
    this.waker.wake();
  }

  /** The delay before the first poll. */
  async firstDelay(): Promise<number> {
    const { pollIntervalMs, instantUpdates } = this.deps.settings();
    const jitter = this.deps.random() * (this.deps.jitterMs ?? DEFAULT_JITTER_MS);
    // docs/protocol.md#target-polling: with instant updates off the first fetch waits one interval.
    if (!instantUpdates) return pollIntervalMs + jitter;
    return (await this.deps.hasStoredTarget()) ? jitter : 0;
  }

  /** Polls until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let delay = await this.firstDelay();
    for (;;) {
      await this.waker.sleep(delay, signal);
      const force = this.pendingForce;
      this.pendingForce = false;
      await this.pollOnce({ force });
      delay = this.nextDelay();
    }
  }

  nextDelay(): number {
    const { pollIntervalMs } = this.deps.settings();
    if (this.failures === 0)
      return pollIntervalMs + this.deps.random() * (this.deps.jitterMs ?? DEFAULT_JITTER_MS);
    const backoff = Math.min(pollIntervalMs, ERROR_BASE_MS * 2 ** Math.min(this.failures - 1, 20));
    const retryAfter =
      this.lastError instanceof CloudStatusError ? this.lastError.retryAfterSeconds : undefined;
    return retryAfter === undefined ? backoff : Math.max(backoff, retryAfter * 1000);
  }

  /** One poll; never throws (failures are counted, logged and kept for status and health). */
  async pollOnce(options: { force: boolean } = { force: false }): Promise<PollOutcome | 'failed'> {
    this.inFlightSince = this.deps.clock.now();
    this.lastAttemptAt = this.inFlightSince;
    try {
      const outcome = await this.fetch(options);
      this.deps.onPoll?.(METRIC_OUTCOME[outcome]);
      if (this.failures > 0)
        this.log.info('cloud.poll-recovered', { afterFailures: this.failures });
      this.failures = 0;
      this.failingSince = undefined;
      this.lastError = undefined;
      this.lastSuccessAt = this.deps.clock.now();
      this.lastOutcome = outcome;
      return outcome;
    } catch (err) {
      this.failures += 1;
      this.failingSince ??= this.inFlightSince;
      this.lastError = isBosunError(err)
        ? err
        : new BosunError('CLOUD_ERROR', errorMessage(err), { cause: err });
      this.deps.onPoll?.('error');
      const level = this.failures === 1 || this.failures % 10 === 0 ? 'warn' : 'debug';
      this.log[level]('cloud.poll-failed', {
        code: this.lastError.code,
        message: this.lastError.message,
        failures: this.failures,
      });
      return 'failed';
    } finally {
      this.inFlightSince = undefined;
    }
  }

  private async fetch(options: { force: boolean }): Promise<PollOutcome> {
    const uuid = this.deps.uuid();
    const what = 'GET /device/v3/<uuid>/state';
    const answer = await this.deps.client.request({
      method: 'GET',
      path: `/device/v3/${uuid}/state`,
      key: this.deps.key(),
      ifNoneMatch: this.etag,
    });
    if (answer.status === 304) {
      if (answer.etag === undefined) {
        if (this.lastOutcome !== 'unknown-device')
          this.log.warn('cloud.device-unknown', {
            uuid,
            message: 'the cloud answered 304 without an ETag: it does not know this device',
          });
        return 'unknown-device';
      }
      if (options.force) this.deps.reapply({ force: true });
      return 'unchanged';
    }
    if (answer.status !== 200) throw statusError(answer, what);
    const document = jsonOf(answer, what);
    try {
      await this.deps.accept(document, options);
    } catch (err) {
      if (!isBosunError(err, 'VALIDATION_FAILED')) throw err;
      // Rejected: remember its ETag so the same bad document is not fetched again every poll.
      this.etag = answer.etag;
      return 'rejected';
    }
    this.etag = answer.etag;
    return 'accepted';
  }
}
