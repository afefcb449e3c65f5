/**
 * What happens to a target the cloud sent (docs/protocol.md#target-intake): validated as a whole (schema,
 * compositions, cross-field rules), stored, then handed to the reconciler. A rejected target changes nothing:
 * it is logged, each line of the reason becomes a system log line (`Could not move to new release: …`, as
 * balena-supervisor words it, so the dashboard shows it), and the report says `rejected` for its release.
 */
import { validateTargetDevice } from '../domain/target/validate-target.js';
import { BosunError, errorMessage, isBosunError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { CloudReconciler, CloudSystemLog, CloudTargetStore, JsonObject } from './ports.js';

/** Releases the last rejected target named, by app uuid: reported with update_status `rejected`. */
export type Rejections = Map<string, string>;

export interface TargetIntakeDeps {
  uuid: () => string;
  store: CloudTargetStore;
  reconciler: Pick<CloudReconciler, 'triggerApply'>;
  systemLog: CloudSystemLog;
  logger: Logger;
  /** Called after a target was stored (the report loop wakes). */
  onAccepted?: () => void;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The first release commit of each app in a raw (maybe invalid) document, for a `rejected` report. */
function namedReleases(device: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const apps = isObject(device) ? device['apps'] : undefined;
  if (!isObject(apps)) return out;
  for (const [appUuid, app] of Object.entries(apps)) {
    const releases = isObject(app) ? app['releases'] : undefined;
    const commit = isObject(releases) ? Object.keys(releases)[0] : undefined;
    if (commit !== undefined && /^[0-9a-f]{1,64}$/i.test(commit)) out.set(appUuid, commit);
  }
  return out;
}

export class TargetIntake {
  readonly rejections: Rejections = new Map();
  private readonly log: Logger;

  constructor(private readonly deps: TargetIntakeDeps) {
    this.log = deps.logger.child({ component: 'cloud-target' });
  }

  async accept(document: unknown, options: { force: boolean }): Promise<void> {
    const uuid = this.deps.uuid();
    const device = isObject(document) ? document[uuid] : undefined;
    try {
      if (device === undefined)
        throw new BosunError(
          'VALIDATION_FAILED',
          `the target state has no entry for this device (${uuid})`,
        );
      const validated = validateTargetDevice(device);
      for (const warning of validated.warnings) this.log.warn('cloud.target-warning', { warning });
      const apps: Record<string, JsonObject> = {};
      for (const [appUuid, app] of Object.entries((device as JsonObject)['apps'] as JsonObject))
        apps[appUuid] = app as JsonObject;
      await this.deps.store.save({
        name: validated.value.name,
        config: validated.value.config,
        apps,
      });
    } catch (err) {
      if (!isBosunError(err, 'VALIDATION_FAILED')) throw err;
      this.reject(device, err);
      throw err;
    }
    this.rejections.clear();
    this.log.info('cloud.target-accepted', { force: options.force });
    this.deps.reconciler.triggerApply({ force: options.force });
    this.deps.onAccepted?.();
  }

  private reject(device: unknown, err: BosunError): void {
    this.rejections.clear();
    for (const [appUuid, commit] of namedReleases(device)) this.rejections.set(appUuid, commit);
    this.log.error('cloud.target-rejected', { code: err.code, message: err.message });
    const lines = errorMessage(err)
      .split('\n')
      .filter((line) => line.trim() !== '');
    lines.forEach((line, i) =>
      this.deps.systemLog.message(i === 0 ? `Could not move to new release: ${line}` : line, {
        isStdErr: true,
      }),
    );
    this.deps.onAccepted?.();
  }
}
