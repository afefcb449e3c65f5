/**
 * Where the log spool lives and how big it may grow, from the agent's environment.
 *
 * - BOSUN_LOG_SPOOL_DIR: the directory; default a tmpfs-backed one under /run (lost at reboot, like the
 *   journal of a balenaOS device without persistent logging), or `<dataDir>/log-spool` when persistent
 *   logging is on (SUPERVISOR_PERSISTENT_LOGGING / config.json `persistentLogging`). The /run name carries
 *   a hash of the data dir so two agents on one host never share a spool.
 * - BOSUN_LOG_SPOOL_MAX_BYTES / BOSUN_LOG_SPOOL_MAX_SERVICE_BYTES: the bounds. Defaults suit an 8 GB SD
 *   card: on disk 128 MiB overall and 32 MiB per service (under 2 % of the card, hours of a chatty
 *   service); on tmpfs, which is RAM, 32 MiB and 8 MiB.
 */
import { createHash } from 'node:crypto';
import { isAbsolute, join, resolve } from 'node:path';
import { BosunError } from '../shared/errors.js';
import type { LogSpoolLimits } from './log-spool.js';

const MIB = 1024 * 1024;
const MIN_BYTES = 64 * 1024;

export interface LogSpoolSettings {
  dir: string;
  persistent: boolean;
  limits: LogSpoolLimits;
}

export function resolveLogSpoolSettings(
  env: Readonly<Record<string, string | undefined>>,
  context: { dataDir: string; persistent: boolean; runDir?: string },
): LogSpoolSettings {
  const persistent = context.persistent;
  const explicit = env['BOSUN_LOG_SPOOL_DIR'];
  const hash = createHash('sha256').update(resolve(context.dataDir)).digest('hex').slice(0, 12);
  const dir =
    explicit !== undefined && explicit !== ''
      ? isAbsolute(explicit)
        ? explicit
        : resolve(explicit)
      : persistent
        ? join(context.dataDir, 'log-spool')
        : join(context.runDir ?? '/run', `bosun-log-spool-${hash}`);
  const maxBytes = bytes(env, 'BOSUN_LOG_SPOOL_MAX_BYTES', persistent ? 128 * MIB : 32 * MIB);
  const maxServiceBytes = bytes(
    env,
    'BOSUN_LOG_SPOOL_MAX_SERVICE_BYTES',
    Math.min(maxBytes, persistent ? 32 * MIB : 8 * MIB),
  );
  return { dir, persistent, limits: { maxBytes, maxServiceBytes } };
}

function bytes(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  dflt: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const value = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < MIN_BYTES)
    throw new BosunError(
      'CONFIG_INVALID',
      `${name}=${JSON.stringify(raw)} is not valid: expected a whole number of bytes ≥ ${MIN_BYTES}`,
    );
  return value;
}
