/**
 * A target the agent refuses (it fails validation or normalisation) changes nothing on the device; a
 * developer who only watches the device's logs must still see why nothing happened. So each refusal is
 * logged by the agent and sent as a system line with the reason. The stored target is re-read on every
 * trigger, so the same refusal in a row is said once.
 */
import type { SystemLogger } from '../logs/system-logger.js';
import { toBosunError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

export class TargetRefusals {
  private readonly log: Logger;
  private last: string | undefined;

  constructor(
    private readonly systemLogger: Pick<SystemLogger, 'message'>,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'target-refusals' });
  }

  /** `where` says which target: `pushed` (local API) or `stored` (re-read to apply). */
  refused(err: unknown, where: 'pushed' | 'stored'): void {
    const error = toBosunError(err, 'VALIDATION_FAILED');
    const text = `Target state refused, nothing was changed: ${error.message}`;
    if (where === 'stored' && text === this.last) return;
    this.last = text;
    this.log.error('target.refused', { target: where, code: error.code, reason: error.message });
    this.systemLogger.message(text, { isStdErr: true });
  }

  /** A target was accepted: a later refusal with the same reason is news again. */
  accepted(): void {
    this.last = undefined;
  }

  /** Wraps the stored-target loader: a refusal is reported, then thrown on as before. */
  watch<T>(load: () => Promise<T>): () => Promise<T> {
    return async () => {
      try {
        const target = await load();
        this.accepted();
        return target;
      } catch (err) {
        this.refused(err, 'stored');
        throw err;
      }
    };
  }
}
