/**
 * Start-up entry of the config module: resolve paths from the environment, make the data directory,
 * open (or create) config.json with the device identity, and compute the AgentSettings. main.ts calls
 * this once and passes the results to whoever needs them; there is no global getter.
 */
import { chmod, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BosunError, errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import {
  resolveAgentSettings,
  readEnvSettings,
  type AgentSettings,
  type Env,
} from './agent-settings.js';
import { ConfigJsonFile } from './config-json-file.js';

export interface LoadedConfiguration {
  readonly settings: AgentSettings;
  /** config.json, for the cloud binding (provisioning writes deviceId, registered_at, …). */
  readonly configJson: ConfigJsonFile;
}

export interface LoadConfigurationOptions {
  env: Env;
  cwd: string;
  logger: Logger;
}

export async function loadConfiguration(
  options: LoadConfigurationOptions,
): Promise<LoadedConfiguration> {
  // Every env var is checked first, so a typo fails before any file is created.
  const fromEnv = readEnvSettings(options.env, options.cwd);
  for (const dir of new Set([fromEnv.dataDir, dirname(fromEnv.dbPath)])) {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      // mkdir's mode applies only to a new directory: an existing one (an older bosun made it 0755)
      // is made private too, since it holds config.json and the database with the API keys.
      if (dir === fromEnv.dataDir) await chmod(dir, 0o700);
    } catch (err) {
      throw new BosunError(
        'CONFIG_UNWRITABLE',
        `cannot create data directory ${dir}: ${errorMessage(err)}`,
        {
          cause: err,
          details: { path: dir },
        },
      );
    }
  }
  const configJson = await ConfigJsonFile.open(fromEnv.configPath, options.logger);
  const settings = resolveAgentSettings(fromEnv, configJson.value);
  options.logger.child({ component: 'config' }).info('config.loaded', {
    configPath: settings.configPath,
    dbPath: settings.dbPath,
    apiPort: settings.api.port,
    localMode: settings.localMode,
    managed: Boolean(configJson.value.apiEndpoint),
  });
  return { settings, configJson };
}
