/**
 * Earlier builds named the tmpfs spool's directory after 12 hex digits of the data dir's SHA-256; now it
 * carries its FNV-1a tag (log-spool-settings.ts), so that node:crypto stays unloaded at start. An agent
 * updated without a reboot would otherwise open an empty spool and leave the old one, with the lines
 * it had not shipped yet, in RAM-backed /run until the next boot. Adopting it costs one listing of the
 * run directory at start; node:crypto loads only when a directory of the old form is there. A rename
 * that fails does not stop the agent: it starts on a new spool and says where the old lines are.
 */
import { existsSync, readdirSync, renameSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Logger } from '../shared/logger.js';
import { nodeCrypto } from '../shared/node-crypto.js';
import { SPOOL_DIR_PREFIX } from './log-spool-settings.js';

const LEGACY_NAME = new RegExp(`^${SPOOL_DIR_PREFIX}[0-9a-f]{12}$`);

/** Renames this data dir's spool of the old name to `dir`, when `dir` does not exist yet. */
export function adoptLegacySpoolDir(dir: string, dataDir: string, logger: Logger): void {
  if (existsSync(dir)) return;
  const runDir = dirname(dir);
  let names: string[];
  try {
    names = readdirSync(runDir).filter((name) => LEGACY_NAME.test(name));
  } catch {
    return; // No run directory yet: nothing of an older agent in it either.
  }
  if (names.length === 0) return;
  const digest = nodeCrypto().createHash('sha256').update(resolve(dataDir)).digest('hex');
  const legacy = `${SPOOL_DIR_PREFIX}${digest.slice(0, 12)}`;
  if (!names.includes(legacy)) return;
  const from = join(runDir, legacy);
  try {
    renameSync(from, dir);
  } catch (err) {
    logger.warn('logs.spool-adopt-failed', { from, to: dir, err });
    return;
  }
  logger.info('logs.spool-adopted', { from, to: basename(dir) });
}
