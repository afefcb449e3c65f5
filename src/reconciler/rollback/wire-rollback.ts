/**
 * Builds the release guard from the store and the config vars, for main.ts: read what an earlier run
 * decided before the first target is loaded.
 */
import { resolveConfigVars } from '../../config/config-vars.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { ReleaseGuardRepository, TargetStateRepository } from '../../store/ports.js';
import { ReleaseGuard } from './release-guard.js';

export async function wireRollback(deps: {
  store: { releases: ReleaseGuardRepository; targets: TargetStateRepository };
  announce: (text: string) => void;
  clock: Clock;
  logger: Logger;
}): Promise<ReleaseGuard> {
  const guard = new ReleaseGuard({
    repository: deps.store.releases,
    loadStored: (origin) => deps.store.targets.load(origin),
    settingsOf: (config) => {
      const vars = resolveConfigVars(config).config;
      return { enabled: vars.updateRollback, windowMs: vars.updateRollbackWindow };
    },
    announce: deps.announce,
    clock: deps.clock,
    logger: deps.logger,
  });
  await guard.init();
  return guard;
}
