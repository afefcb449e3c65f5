/**
 * Where the log spool lives and how big it may grow, from the agent's environment.
 *
 * - BOSUN_LOG_SPOOL_DIR: the directory; default a tmpfs-backed one under /run (lost at reboot, like the
 *   journal of a balenaOS device without persistent logging), or `<dataDir>/log-spool` when persistent
 *   logging is on (SUPERVISOR_PERSISTENT_LOGGING / config.json `persistentLogging`). The /run name carries
 *   a tag of the data dir (`dataDirTag`) so two agents on one host never share a spool.
 * - BOSUN_LOG_SPOOL_MAX_BYTES / BOSUN_LOG_SPOOL_MAX_SERVICE_BYTES: the bounds. Defaults suit an 8 GB SD
 *   card: on disk 128 MiB overall and 32 MiB per service (under 2 % of the card, hours of a chatty
 *   service); on tmpfs, which is RAM, 32 MiB and 8 MiB.
 * The variables are read and validated with the others at start (src/config/agent-settings.ts), before
 * any file is made; this module only picks the defaults, which depend on persistent logging.
 */
import { join, resolve } from 'node:path';
import { fnv1a64 } from '../shared/fnv1a.js';
import type { LogSpoolLimits } from './log-spool.js';

const MIB = 1024 * 1024;

/** The tmpfs spool's directory name: this prefix and the data dir's tag. */
export const SPOOL_DIR_PREFIX = 'bosun-log-spool-';

/**
 * The data dir's resolved path as a 64-bit FNV-1a hash (16 hex digits). It only has to tell the data
 * dirs of one host apart, which needs no cryptographic hash. Earlier builds used 12 hex digits of
 * SHA-256; src/logs/legacy-spool-dir.ts adopts a spool left under that name.
 */
export function dataDirTag(dataDir: string): string {
  return fnv1a64(Buffer.from(resolve(dataDir), 'utf8'));
}

export interface LogSpoolSettings {
  dir: string;
  /** The default tmpfs directory (no BOSUN_LOG_SPOOL_DIR, no persistent logging). */
  inRunDir: boolean;
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
  const dir =
    fromEnv.spoolDir ??
    (persistent
      ? join(context.dataDir, 'log-spool')
      : join(context.runDir ?? '/run', `${SPOOL_DIR_PREFIX}${dataDirTag(context.dataDir)}`));
  const maxBytes = fromEnv.spoolMaxBytes ?? (persistent ? 128 * MIB : 32 * MIB);
  const maxServiceBytes =
    fromEnv.spoolMaxServiceBytes ?? Math.min(maxBytes, persistent ? 32 * MIB : 8 * MIB);
  const inRunDir = fromEnv.spoolDir === undefined && !persistent;
  return { dir, inRunDir, persistent, limits: { maxBytes, maxServiceBytes } };
}
