/**
 * Where the API listens, worked out before anything else loads (src/start.ts opens the port first so
 * that `/ping` answers at once). The same rule as resolveAgentSettings: BOSUN_API_PORT, else config.json
 * `listenPort`, else 48484. Anything doubtful (a bad variable, an unreadable or invalid config.json)
 * gives undefined: the normal start-up then validates everything and says exactly what is wrong.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_API_PORT, readEnvSettings, type Env } from './agent-settings.js';

/** config.json is a few KB; anything far bigger is left to the full loader's checks. */
const MAX_CONFIG_BYTES = 1024 * 1024;

export function earlyListenAddress(
  env: Env,
  cwd: string,
): { host: string; port: number } | undefined {
  let fromEnv;
  try {
    fromEnv = readEnvSettings(env, cwd);
  } catch {
    return undefined;
  }
  if (fromEnv.apiPort !== undefined) return { host: fromEnv.apiHost, port: fromEnv.apiPort };
  const listenPort = configuredPort(fromEnv.configPath);
  if (listenPort === 'doubtful') return undefined;
  return { host: fromEnv.apiHost, port: listenPort ?? DEFAULT_API_PORT };
}

function configuredPort(path: string): number | undefined | 'doubtful' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    // No config.json yet is the normal first start of an unmanaged device.
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : 'doubtful';
  }
  if (text.length > MAX_CONFIG_BYTES) return 'doubtful';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'doubtful';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'doubtful';
  const port = (parsed as Record<string, unknown>)['listenPort'];
  if (port === undefined) return undefined;
  return Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65535
    ? (port as number)
    : 'doubtful';
}
