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
 * The variables are read and validated with the others at start (src/config/agent-settings.ts), before
 * any file is made; this module only picks the defaults, which depend on persistent logging.
 */
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { LogSpoolLimits } from './log-spool.js';

const MIB = 1024 * 1024;

export interface LogSpoolSettings {
  dir: string;
  persistent: boolean;
  limits: LogSpoolLimits;
}

/** The BOSUN_LOG_SPOOL_* values as the agent's settings validated them (at start, before any file). */
export interface LogSpoolEnv {
  spoolDir: string | undefined;
  spoolMaxBytes: number | undefined;
  spoolMaxServiceBytes: number | undefined;
}

export function resolveLogSpoolSettings(
  fromEnv: LogSpoolEnv,
  context: { dataDir: string; persistent: boolean; runDir?: string },
): LogSpoolSettings {
  const persistent = context.persistent;
  const hash = createHash('sha256').update(resolve(context.dataDir)).digest('hex').slice(0, 12);
  const dir =
    fromEnv.spoolDir ??
    (persistent
      ? join(context.dataDir, 'log-spool')
      : join(context.runDir ?? '/run', `bosun-log-spool-${hash}`));
  const maxBytes = fromEnv.spoolMaxBytes ?? (persistent ? 128 * MIB : 32 * MIB);
  const maxServiceBytes =
    fromEnv.spoolMaxServiceBytes ?? Math.min(maxBytes, persistent ? 32 * MIB : 8 * MIB);
  return { dir, persistent, limits: { maxBytes, maxServiceBytes } };
}
