/**
 * Device tags (docs/protocol.md#device-tags): `PATCH /v2/device/tags` on the local API queues pairs; they are
 * sent as `PATCH /device/v3/tags {"<uuid>": {...}}` at most every 10 s, retried with the state report's
 * backoff, and a pair equal to the last one the cloud accepted is not sent again. Reading goes to the cloud
 * (`GET /v7/device_tag`). The queue lives in memory: a restart before it was sent loses it, and the
 * caller (the API) is told only that it was queued.
 */
import type { Clock } from '../shared/clock.js';
import { BosunError, errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { CloudStatusError, jsonOf, statusError, type CloudClient } from './cloud-client.js';
import { MIN_REPORT_INTERVAL_MS } from './state-reporter.js';

const ERROR_BASE_MS = 15_000;

export interface TagReporterDeps {
  client: Pick<CloudClient, 'request'>;
  uuid: () => string;
  key: () => string;
  deviceId: () => number | undefined;
  clock: Clock;
  pollIntervalMs: () => number;
  logger: Logger;
}

export class TagReporter {
  private readonly queued = new Map<string, string>();
  private readonly reported = new Map<string, string>();
  private running: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(
    private readonly deps: TagReporterDeps,
    private readonly signal: AbortSignal,
  ) {
    this.log = deps.logger.child({ component: 'cloud-tags' });
  }

  async list(): Promise<Array<{ id: number; name: string; value: string }>> {
    const id = this.deps.deviceId();
    if (id === undefined) throw new BosunError('NOT_READY', 'the device is not provisioned yet');
    const answer = await this.deps.client.request({
      method: 'GET',
      path: `/v7/device_tag?$select=id,tag_key,value&$filter=${encodeURIComponent(`device eq ${id}`)}`,
      key: this.deps.key(),
    });
    if (answer.status !== 200) throw statusError(answer, 'GET /v7/device_tag');
    const d = (jsonOf(answer, 'GET /v7/device_tag') as { d?: unknown } | null)?.d;
    if (!Array.isArray(d))
      throw new BosunError('CLOUD_BAD_ANSWER', 'GET /v7/device_tag: no `d` array');
    return d.flatMap((row: unknown) => {
      const r = row as { id?: unknown; tag_key?: unknown; value?: unknown };
      return typeof r.tag_key === 'string' && typeof r.value === 'string'
        ? [{ id: typeof r.id === 'number' ? r.id : 0, name: r.tag_key, value: r.value }]
        : [];
    });
  }

  set(tags: Record<string, string>): void {
    for (const [key, value] of Object.entries(tags)) {
      if (!this.queued.has(key) && this.reported.get(key) === value) continue;
      this.queued.set(key, value);
    }
    if (this.queued.size > 0)
      this.running ??= this.loop().finally(() => (this.running = undefined));
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.queued.size > 0 && !this.signal.aborted) {
      const batch = Object.fromEntries(this.queued);
      let wait = MIN_REPORT_INTERVAL_MS;
      try {
        const answer = await this.deps.client.request({
          method: 'PATCH',
          path: '/device/v3/tags',
          key: this.deps.key(),
          body: { [this.deps.uuid()]: batch },
        });
        if (answer.status < 200 || answer.status >= 300)
          throw statusError(answer, 'PATCH /device/v3/tags');
        for (const [key, value] of Object.entries(batch)) {
          this.reported.set(key, value);
          if (this.queued.get(key) === value) this.queued.delete(key);
        }
        failures = 0;
      } catch (err) {
        failures += 1;
        wait = Math.min(
          this.deps.pollIntervalMs(),
          ERROR_BASE_MS * 2 ** Math.min(failures - 1, 20),
        );
        if (err instanceof CloudStatusError && err.retryAfterSeconds !== undefined)
          wait = Math.max(wait, err.retryAfterSeconds * 1000);
        this.log.warn('cloud.tags-failed', { message: errorMessage(err), retryInMs: wait });
      }
      if (this.queued.size === 0) return;
      await this.deps.clock.sleep(wait, this.signal).catch(() => undefined);
    }
  }
}
