/**
 * Loading the stored target (at start-up, after a save, on POST /v1/update). Loads run one after
 * another, so the latest saved target is applied last. An unchanged target is not applied again (the
 * running apply goes on); a malformed one is reported and nothing of it is applied.
 */
import type { TargetState } from '../domain/model.js';
import { toBosunError, type BosunError } from '../shared/errors.js';

export interface StoredTargetHandlers {
  current(): TargetState | undefined;
  changed(target: TargetState, force: boolean): void;
  unchanged(force: boolean): void;
  failed(error: BosunError): void;
}

export class StoredTarget {
  private loading: Promise<void> = Promise.resolve();

  constructor(
    private readonly load: () => Promise<TargetState | undefined>,
    private readonly handlers: StoredTargetHandlers,
  ) {}

  /** Resolves once every load asked for so far has been handled (loads never reject). */
  settled(): Promise<void> {
    return this.loading;
  }

  reload(force: boolean): void {
    this.loading = this.loading.then(async () => {
      try {
        const target = await this.load();
        if (target === undefined) return;
        const current = this.handlers.current();
        if (current !== undefined && sameTarget(current, target)) this.handlers.unchanged(force);
        else this.handlers.changed(target, force);
      } catch (err) {
        this.handlers.failed(toBosunError(err, 'VALIDATION_FAILED'));
      }
    });
  }
}

/** Whether two normalised targets ask for the same thing (they are plain data). */
function sameTarget(a: TargetState, b: TargetState): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
