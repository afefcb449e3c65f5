/**
 * Leaving local mode: remove what local mode made (the local apps' containers and networks, and the
 * images their services named, e.g. the CLI's `local_<service>` builds), forget the local target, and
 * nothing else. Volumes survive (a developer's data outlives a push session) and so does the cloud
 * target, which the reconciler then applies as usual.
 *
 * [quirk] balena-supervisor diffs two engine snapshots and force-removes every container, image,
 * network and volume created while in local mode, including what the user made by hand
 * (docs/protocol.md#leaving-local-mode). bosun removes only objects it can tie to a local app.
 *
 * Idempotent: the local target is cleared last, so a crash half way repeats the clean-up on next start.
 */
import type { EngineAdapter } from '../engine/port.js';
import { isBosunError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { StoredTarget, TargetOrigin } from '../store/ports.js';

export interface LocalModeExitDeps {
  engine: Pick<
    EngineAdapter,
    'listContainers' | 'removeContainer' | 'listNetworks' | 'removeNetwork' | 'removeImage'
  >;
  targets: {
    load(origin: TargetOrigin): Promise<StoredTarget | undefined>;
    clear(origin: TargetOrigin): Promise<void>;
  };
  logger: Logger;
  /** As the observer's: only objects carrying these `key=value` labels are touched. */
  scopeLabels?: readonly string[];
}

export interface LocalModeExitResult {
  containers: string[];
  networks: string[];
  images: string[];
}

const LOCAL: TargetOrigin = { kind: 'local' };
const APP_UUID_LABEL = 'io.balena.app-uuid';

export async function leaveLocalMode(deps: LocalModeExitDeps): Promise<LocalModeExitResult> {
  const result: LocalModeExitResult = { containers: [], networks: [], images: [] };
  const local = await deps.targets.load(LOCAL);
  if (local === undefined) return result;
  const log = deps.logger.child({ component: 'local-mode-exit' });
  const apps = new Set(Object.keys(local.apps));
  const scope = deps.scopeLabels ?? [];
  let failures = 0;
  /** Removes one object; gone already counts as done, any other failure is counted and logged. */
  const attempt = async (
    remove: () => Promise<void>,
    kind: string,
    name: string,
  ): Promise<boolean> => {
    try {
      await remove();
      return true;
    } catch (err) {
      if (isBosunError(err, 'NOT_FOUND')) return true;
      failures++;
      log.warn('local-mode.exit-failed', { kind, name, err });
      return false;
    }
  };

  for (const c of await deps.engine.listContainers({
    labels: ['io.balena.supervised', ...scope],
  })) {
    const app = c.labels[APP_UUID_LABEL];
    if (app === undefined || !apps.has(app)) continue;
    if (
      await attempt(() => deps.engine.removeContainer(c.id, { force: true }), 'container', c.name)
    )
      result.containers.push(c.name);
  }
  for (const n of await deps.engine.listNetworks({ labels: ['io.balena.supervised', ...scope] })) {
    const app = n.labels[APP_UUID_LABEL];
    if (app === undefined || !apps.has(app)) continue;
    if (await attempt(() => deps.engine.removeNetwork(n.id), 'network', n.name))
      result.networks.push(n.name);
  }
  for (const image of serviceImages(local)) {
    try {
      await deps.engine.removeImage(image);
      result.images.push(image);
    } catch (err) {
      // Still used by something else (another app, a user's container): not ours to force away.
      if (!isBosunError(err, 'NOT_FOUND')) log.warn('local-mode.image-kept', { image, err });
    }
  }
  if (failures > 0) {
    // Keep the local target so the next start tries again rather than orphaning what is left.
    log.warn('local-mode.exit-incomplete', { failures, ...result });
    return result;
  }
  await deps.targets.clear(LOCAL);
  log.info('local-mode.left', { ...result });
  return result;
}

/** Image references named by the stored (raw v3) local target's services. */
function serviceImages(target: StoredTarget): string[] {
  const images = new Set<string>();
  for (const app of Object.values(target.apps)) {
    const releases = (app as { releases?: unknown }).releases;
    if (typeof releases !== 'object' || releases === null) continue;
    for (const release of Object.values(releases)) {
      const services = (release as { services?: unknown } | null)?.services;
      if (typeof services !== 'object' || services === null) continue;
      for (const service of Object.values(services)) {
        const image = (service as { image?: unknown } | null)?.image;
        if (typeof image === 'string' && image !== '') images.add(image);
      }
    }
  }
  return [...images];
}
