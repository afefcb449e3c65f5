/**
 * Config vars whose home is config.json (docs/protocol.md#config-vars: their source is config.json): SUPERVISOR_POLL_INTERVAL
 * is config.json `appUpdatePollInterval`, SUPERVISOR_PERSISTENT_LOGGING is `persistentLogging`. When a
 * target's config resolves them to other values than config.json holds, they are written there, through
 * ConfigJsonFile's atomic write (unknown keys kept), so the OS and the next start see them: the poll
 * interval before any target is stored, persistent logging (which the log spool only reads at start:
 * it needs a restart, as on balenaOS where the journal is set up at boot).
 *
 * A var absent from the target resolves to its default and the default is written, as upstream does;
 * the device's own values reach the cloud first through the initial config report.
 */
import type { Logger } from '../shared/logger.js';
import type { ConfigJson, ConfigJsonChanges } from './config-json-schema.js';
import {
  CONFIG_VAR_SPECS,
  configVarText,
  DEFAULT_SUPERVISOR_CONFIG,
  type SupervisorConfig,
} from './config-vars.js';

export interface MirrorableConfigJson {
  readonly value: ConfigJson;
  update(changes: ConfigJsonChanges): Promise<unknown>;
}

/** The config.json fields the resolved config vars call for, where they differ from what it holds. */
export function configJsonChanges(
  current: ConfigJson,
  config: Pick<SupervisorConfig, 'appUpdatePollInterval' | 'persistentLogging'>,
): ConfigJsonChanges {
  const changes: ConfigJsonChanges = {};
  // An absent field means the default (as upstream reads it): no write to say the same thing.
  const interval = current.appUpdatePollInterval ?? DEFAULT_SUPERVISOR_CONFIG.appUpdatePollInterval;
  if (interval !== config.appUpdatePollInterval)
    changes.appUpdatePollInterval = config.appUpdatePollInterval;
  const persistent = current.persistentLogging ?? DEFAULT_SUPERVISOR_CONFIG.persistentLogging;
  if (persistent !== config.persistentLogging) changes.persistentLogging = config.persistentLogging;
  return changes;
}

/** Writes what changed (nothing when nothing did); resolves to the fields written. */
export async function mirrorConfigVarsToConfigJson(
  file: MirrorableConfigJson,
  config: Pick<SupervisorConfig, 'appUpdatePollInterval' | 'persistentLogging'>,
  logger: Logger,
): Promise<string[]> {
  const changes = configJsonChanges(file.value, config);
  const fields = Object.keys(changes);
  if (fields.length === 0) return fields;
  await file.update(changes);
  logger.info('config-json.config-vars-written', {
    component: 'config',
    ...changes,
    ...(changes.persistentLogging === undefined
      ? {}
      : { note: 'persistent logging changes take effect at the next start' }),
  });
  return fields;
}

/**
 * The device's config vars as the initial config report sees them (unprefixed name → text): those of
 * the stored target, except the two whose home is config.json, read from `atStart` (config.json as the
 * agent found it, before any target could rewrite it).
 */
export function deviceConfigVarValues(
  atStart: ConfigJson,
  config: SupervisorConfig,
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const key of Object.keys(CONFIG_VAR_SPECS) as (keyof SupervisorConfig)[])
    values[CONFIG_VAR_SPECS[key].name] = configVarText(config, key);
  const defaults = DEFAULT_SUPERVISOR_CONFIG;
  values[CONFIG_VAR_SPECS.appUpdatePollInterval.name] = String(
    atStart.appUpdatePollInterval ?? defaults.appUpdatePollInterval,
  );
  values[CONFIG_VAR_SPECS.persistentLogging.name] = String(
    atStart.persistentLogging ?? defaults.persistentLogging,
  );
  return values;
}
