/**
 * Builds the release guard from the store and the config vars, for main.ts: read what an earlier run
 * decided before the first target is loaded. main.ts passes how a target's config vars read (the
 * reconciler does not import config/).
 */
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { ReleaseGuardRepository, TargetStateRepository } from '../../store/ports.js';
import { ReleaseGuard } from './release-guard.js';

export async function wireRollback(deps: {
  store: { releases: ReleaseGuardRepository; targets: TargetStateRepository };
  announce: (text: string) => void;
  /** SUPERVISOR_UPDATE_ROLLBACK and SUPERVISOR_UPDATE_ROLLBACK_WINDOW of a target's config. */
  settingsOf: (config: Readonly<Record<string, string>>) => { enabled: boolean; windowMs: number };
  clock: Clock;
  logger: Logger;
}): Promise<ReleaseGuard> {
  const guard = new ReleaseGuard({
    repository: deps.store.releases,
    loadStored: (origin) => deps.store.targets.load(origin),
    settingsOf: deps.settingsOf,
    announce: deps.announce,
    clock: deps.clock,
    logger: deps.logger,
  });
  await guard.init();
  return guard;
}
