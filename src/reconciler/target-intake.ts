/**
 * Where targets enter: validate and normalise the whole target first, store it, and only then hand it
 * to the reconciler, so a target that was applied (even partly) is always the stored one and survives
 * a reboot without network. At start-up the stored target is loaded the same way; a malformed one is
 * reported and nothing of it is applied (normalisation is all-or-nothing before anything runs).
 */
import type { TargetState } from '../domain/model.js';
import { BosunError, toBosunError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

export interface TargetIntakeDeps<Raw> {
  /** Validates and normalises a raw target whole; throws BosunError VALIDATION_FAILED naming the field. */
  normalise: (raw: Raw) => TargetState;
  /** The store: save before applying, load at start-up. */
  save: (raw: Raw) => Promise<void>;
  load: () => Promise<Raw | undefined>;
  apply: (target: TargetState, options: { force?: boolean }) => void;
  logger: Logger;
}

export class TargetIntake<Raw> {
  private readonly log: Logger;

  constructor(private readonly deps: TargetIntakeDeps<Raw>) {
    this.log = deps.logger.child({ component: 'target-intake' });
  }

  /** Rejects (nothing stored, nothing applied) when the target is invalid. */
  async accept(raw: Raw, options: { force?: boolean } = {}): Promise<TargetState> {
    const target = this.deps.normalise(raw);
    await this.deps.save(raw);
    this.deps.apply(target, options);
    return target;
  }

  /**
   * The stored target, normalised, or undefined when there is none or it is malformed (then the error
   * is logged and returned so status can show it).
   */
  async loadStored(): Promise<{ target: TargetState | undefined; error: BosunError | undefined }> {
    let raw: Raw | undefined;
    try {
      raw = await this.deps.load();
    } catch (err) {
      const error = toBosunError(err, 'STORE_ERROR');
      this.log.error('target.load-failed', { err: error, code: error.code });
      return { target: undefined, error };
    }
    if (raw === undefined) return { target: undefined, error: undefined };
    try {
      return { target: this.deps.normalise(raw), error: undefined };
    } catch (err) {
      const error = toBosunError(err, 'VALIDATION_FAILED');
      this.log.error('target.stored-target-malformed', { err: error, code: error.code });
      return {
        target: undefined,
        error: new BosunError(
          'VALIDATION_FAILED',
          `the stored target is malformed and was not applied: ${error.message}`,
          { cause: error },
        ),
      };
    }
  }
}
