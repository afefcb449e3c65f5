/**
 * Ships the spool to the cloud log stream (docs/protocol.md#cloud-log-stream):
 * `POST {endpoint}/device/v2/{uuid}/log-stream`, gzip-compressed NDJSON,
 * `Content-Type: application/x-ndjson`, each line the wire object of the spool.
 *
 * Acknowledgement. The cloud answers a log stream only when its request body ends (the recorded
 * exchange: 201 with an empty body, first response byte at the request's end; lines are stored while
 * the stream is open). So the only acknowledgement there is is that 201, and it covers every line of
 * the request. A request is therefore one batch: it stays open (long-lived, lines written as they are
 * committed, a sync flush at most every 100 ms so the cloud sees them live) until it has carried
 * `maxLines` lines or `maxBytes` bytes or has been open `maxAgeMs`; then it ends, and once the 201 is
 * there the spool records the last id as acknowledged (on disk) before the next batch starts. The
 * batch in flight is thus bounded by those three limits, and a crash repeats at most that one batch.
 *
 * Any response before we end the body is an error (401, 415, 5xx, a proxy's page): the request is torn
 * down and nothing is acknowledged. Reconnects back off as upstream does, `min(base * 2^failures, max)`,
 * and a success resets it. **[quirk]** upstream waits 5 s after sending the headers before writing, so
 * that an immediate 401 does not eat its in-memory buffer; lines here stay in the spool until
 * acknowledged, so there is nothing to protect and no reason to wait.
 *
 * Backpressure: lines are read from the spool in pages and written only while the socket keeps up
 * (`drain`); a slow cloud makes the spool grow (bounded there), never our memory.
 */
import {
  request as httpRequest,
  type Agent,
  type ClientRequest,
  type IncomingMessage,
} from 'node:http';
import type { Gzip } from 'node:zlib';
import type { Clock } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { SpooledLine } from './log-spool.js';

/** What the shipper needs of the spool. */
export interface ShippableSpool {
  readonly acknowledged: number;
  readonly lastId: number;
  readAfter(afterId: number, maxLines: number, maxBytes: number): SpooledLine[];
  markInFlight(toId: number): void;
  protectPossiblyInFlight(maxLines: number): void;
  acknowledge(id: number): Promise<void>;
  onCommit(listener: () => void): () => void;
}

export interface LogStreamCredentials {
  /** `logsEndpoint ?? apiEndpoint` of config.json. */
  endpoint: string;
  uuid: string;
  deviceApiKey: string;
}

export interface BatchLimits {
  maxLines: number;
  maxBytes: number;
  maxAgeMs: number;
}

export interface CloudLogShipperOptions {
  spool: ShippableSpool;
  /** Undefined until the device is provisioned: lines wait in the spool. */
  credentials: () => LogStreamCredentials | undefined;
  /** SUPERVISOR_LOG_CONTROL and not local mode. Lines committed while false are never shipped. */
  enabled: () => boolean;
  /**
   * The cloud client's keep-alive agent for this URL (its trust in config.json's balenaRootCA, its TLS
   * session cache), handed in by the composition root; undefined: Node's default agent.
   */
  agentFor?: (url: URL) => Agent | undefined;
  clock: Clock;
  logger: Logger;
  batch?: Partial<BatchLimits>;
  backoff?: { baseMs: number; maxMs: number };
  /** How long to wait for the answer once the body has ended. */
  responseTimeoutMs?: number;
  /** Told how many lines each acknowledged batch carried (metrics). */
  onShipped?: (lines: number) => void;
}

export const DEFAULT_BATCH: BatchLimits = { maxLines: 5000, maxBytes: 1024 * 1024, maxAgeMs: 2000 };
const FLUSH_INTERVAL_MS = 100;
/** Unprovisioned with lines waiting: how often to look for credentials (config.json has no events). */
const NO_CREDENTIALS_RECHECK_MS = 30_000;
const PAGE_LINES = 500;

export class CloudLogShipper {
  private readonly batch: BatchLimits;
  private readonly logger: Logger;
  private readonly stopping = new AbortController();
  private wake: (() => void) | undefined;
  private notified = false;
  private failures = 0;
  private running: Promise<void> | undefined;
  private current: ClientRequest | undefined;
  private shippedBatches = 0;

  constructor(private readonly options: CloudLogShipperOptions) {
    this.batch = { ...DEFAULT_BATCH, ...options.batch };
    this.logger = options.logger.child({ component: 'log-shipper' });
  }

  start(): void {
    this.options.spool.protectPossiblyInFlight(this.batch.maxLines);
    const off = this.options.spool.onCommit(() => this.notify());
    this.running = this.loop().finally(off);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.current?.destroy();
    this.notify();
    await this.running;
  }

  /** Batches the cloud acknowledged since start (for status and tests). */
  get acknowledgedBatches(): number {
    return this.shippedBatches;
  }

  private async loop(): Promise<void> {
    const { spool } = this.options;
    while (!this.stopping.signal.aborted) {
      if (!this.options.enabled()) {
        // Not for the cloud: mark as handled so eviction treats them as history, not as drops.
        if (spool.lastId > spool.acknowledged) await spool.acknowledge(spool.lastId);
        // Nothing is pending now, so only a new commit can give work (issue 16: no timer while idle).
        await this.idle();
        continue;
      }
      if (spool.lastId <= spool.acknowledged) {
        await this.idle();
        continue;
      }
      const credentials = this.options.credentials();
      if (credentials === undefined) {
        // Lines wait for provisioning, which no event here announces: look again now and then.
        await this.idle(NO_CREDENTIALS_RECHECK_MS);
        continue;
      }
      let ok = false;
      try {
        ok = await this.sendBatch(credentials);
      } catch (err) {
        if (!this.stopping.signal.aborted)
          this.logger.warn('logs.cloud-stream-failed', { err, failures: this.failures + 1 });
      }
      if (ok) {
        this.failures = 0;
        continue;
      }
      if (this.stopping.signal.aborted) return;
      const delay = this.retryDelay();
      this.failures++;
      try {
        await this.options.clock.sleep(delay, this.stopping.signal);
      } catch {
        return;
      }
    }
  }

  private retryDelay(): number {
    const { baseMs, maxMs } = this.options.backoff ?? { baseMs: 5000, maxMs: 300_000 };
    return Math.min(baseMs * 2 ** this.failures, maxMs);
  }

  /**
   * Waits for the next commit (or one that came since the loop last looked), or `ms` when given, or
   * stop. Without `ms` no timer runs: an idle agent is not woken to find nothing to do.
   */
  private idle(ms?: number): Promise<void> {
    if (this.notified || this.stopping.signal.aborted) {
      this.notified = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      if (ms !== undefined) timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    // Remembered when the loop is busy (acknowledging, sending), so a commit is never missed.
    if (wake === undefined) this.notified = true;
    else wake();
  }

  /** One request = one batch. Resolves true once the cloud acknowledged it and the spool recorded that. */
  private async sendBatch(credentials: LogStreamCredentials): Promise<boolean> {
    const { spool, clock } = this.options;
    const url = new URL(
      `device/v2/${encodeURIComponent(credentials.uuid)}/log-stream`,
      credentials.endpoint.endsWith('/') ? credentials.endpoint : `${credentials.endpoint}/`,
    );
    // TLS and zlib are loaded with the first batch, not with the agent: a device whose lines never
    // leave it (local mode, no cloud) does not carry them (BENCHMARKS.md, issue 16's idle modules).
    const { createGzip, constants } = await import('node:zlib');
    const send = url.protocol === 'https:' ? (await import('node:https')).request : httpRequest;
    if (this.stopping.signal.aborted) return false;
    const agent = this.options.agentFor?.(url);
    const req = send(url, {
      method: 'POST',
      ...(agent === undefined ? {} : { agent }),
      headers: {
        Authorization: `Bearer ${credentials.deviceApiKey}`,
        'Content-Type': 'application/x-ndjson',
        'Content-Encoding': 'gzip',
      },
    });
    this.current = req;
    const gzip = createGzip();
    gzip.pipe(req);
    let ended = false;
    let failure: Error | undefined;
    const answered = new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', (res) => {
        if (!ended)
          reject(new Error(`the cloud answered ${res.statusCode} before the batch ended`));
        else resolve(res);
      });
      req.once('error', reject);
      gzip.once('error', reject);
    });
    // Errors surface through `answered`; the body loop only needs to stop writing.
    answered.catch((err: unknown) => {
      failure = err instanceof Error ? err : new Error(errorMessage(err));
      this.notify();
    });
    req.flushHeaders();

    const started = clock.now();
    let cursor = spool.acknowledged;
    let lines = 0;
    let sent = 0;
    let bytes = 0;
    let lastFlush = started;
    let unflushed = false;
    try {
      while (failure === undefined && !this.stopping.signal.aborted) {
        const age = clock.now() - started;
        if (
          lines >= this.batch.maxLines ||
          bytes >= this.batch.maxBytes ||
          age >= this.batch.maxAgeMs
        )
          break;
        const rows = spool.readAfter(
          cursor,
          Math.min(PAGE_LINES, this.batch.maxLines - lines),
          this.batch.maxBytes - bytes,
        );
        if (rows.length === 0) {
          // Caught up: let the cloud have what we wrote (commits come at most every 100 ms).
          if (unflushed) {
            gzip.flush(constants.Z_SYNC_FLUSH);
            lastFlush = clock.now();
            unflushed = false;
          }
          await this.idle(Math.max(1, this.batch.maxAgeMs - age));
          continue;
        }
        let chunk = '';
        for (const row of rows) {
          // Container lines without a serviceId are dropped by the cloud (docs/protocol.md#cloud-log-stream):
          // do not send them.
          if (row.service !== '' && !row.wire.includes('"serviceId":')) continue;
          chunk += row.wire + '\n';
          sent++;
        }
        cursor = (rows[rows.length - 1] as SpooledLine).id;
        spool.markInFlight(cursor);
        lines += rows.length;
        bytes += chunk.length;
        if (chunk !== '') unflushed = true;
        if (chunk !== '' && !gzip.write(chunk)) await this.drained(gzip, () => failure);
        if (unflushed && clock.now() - lastFlush >= FLUSH_INTERVAL_MS) {
          gzip.flush(constants.Z_SYNC_FLUSH);
          lastFlush = clock.now();
          unflushed = false;
        }
      }
      if (failure !== undefined) throw failure;
      if (this.stopping.signal.aborted) return false;
      ended = true;
      gzip.end();
      const res = await withTimeout(answered, this.options.responseTimeoutMs ?? 30_000);
      const status = res.statusCode ?? 0;
      const body = await readSmall(res);
      if (status < 200 || status >= 300) {
        this.logger.warn('logs.cloud-stream-rejected', {
          status,
          body,
          failures: this.failures + 1,
        });
        return false;
      }
      await spool.acknowledge(cursor);
      this.shippedBatches++;
      if (sent > 0) this.options.onShipped?.(sent);
      return true;
    } finally {
      this.current = undefined;
      if (!ended || failure !== undefined) req.destroy();
      gzip.unpipe(req);
    }
  }

  private drained(gzip: Gzip, failed: () => Error | undefined): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (failed() !== undefined || this.stopping.signal.aborted) done();
      };
      const timer = setInterval(check, 200);
      const done = (): void => {
        clearInterval(timer);
        gzip.off('drain', done);
        resolve();
      };
      gzip.once('drain', done);
    });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no answer to the log stream within ${ms} ms of its end`)),
      ms,
    );
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(errorMessage(err)));
      },
    );
  });
}

/** The answer's body, at most 1 KiB of it (for the log), consumed so the socket can be reused. */
async function readSmall(res: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of res) {
    if (text.length < 1024) text += String(chunk).slice(0, 1024 - text.length);
  }
  return text;
}
