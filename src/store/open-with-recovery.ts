/**
 * Opens the store at start-up and never stops the agent for good over a broken database file: when the
 * database is missing while backups exist, fails to open, or fails SQLite's integrity check, the broken
 * files are moved aside (kept for a post-mortem), the newest backup that passes the check is restored,
 * and failing any, a fresh store is created, whose target is empty until a new one arrives and which
 * adopts the running containers (they carry their identity in labels). Every recovery is logged at error
 * level with what was lost: never silent. The cloud device key is in config.json and survives; the
 * local API key survives only through a backup, and the log says when it was regenerated.
 * A database a newer bosun migrated is not broken: that error is passed on untouched.
 */
import { copyFile, rename, stat } from 'node:fs/promises';
import { isBosunError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { backupDatabase, listBackups, passesIntegrityCheck } from './backup.js';
import { openStore, type OpenStoreOptions } from './open-store.js';
import type { Store } from './ports.js';
import { makeDatabaseFilesPrivate } from './private-files.js';

const SIDE_FILES = ['', '-wal', '-shm'];

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function moveAside(dbPath: string, now: number): Promise<string> {
  const aside = `${dbPath}.corrupt-${now}`;
  for (const suffix of SIDE_FILES)
    if (await exists(`${dbPath}${suffix}`)) await rename(`${dbPath}${suffix}`, `${aside}${suffix}`);
  return aside;
}

export interface RecoveryOptions extends OpenStoreOptions {
  now?: () => number;
  backupsKept?: number;
}

export async function openStoreWithRecovery(options: RecoveryOptions): Promise<Store> {
  const log = options.logger.child({ component: 'store' });
  const now = options.now ?? Date.now;
  const path = options.path;
  const backups = await listBackups(path).catch(() => []);
  let problem: string | undefined;
  if (!(await exists(path))) {
    if (backups.length > 0) problem = 'the database file is missing but backups exist';
  } else if (!passesIntegrityCheck(path)) {
    problem = 'the database file does not open or fails the integrity check';
  }
  if (problem === undefined) {
    try {
      return await opened(options);
    } catch (err) {
      if (!isBosunError(err, 'STORE_ERROR')) throw err; // MIGRATION_FAILED and the rest: not corruption
      problem = `the database cannot be opened: ${err.message}`;
    }
  }
  const aside = (await exists(path)) ? await moveAside(path, now()) : undefined;
  for (const backup of backups) {
    if (!passesIntegrityCheck(backup)) {
      log.error('store.backup-unusable', { backup });
      continue;
    }
    await copyFile(backup, path);
    await makeDatabaseFilesPrivate(path);
    log.error('store.recovered-from-backup', {
      path,
      problem,
      backup,
      brokenFileKeptAt: aside,
      message: `RECOVERED: ${problem}; restored ${backup}. Changes made after that backup (targets, keys) are lost; the running containers are adopted as they are.`,
    });
    return opened(options);
  }
  log.error('store.recovered-fresh', {
    path,
    problem,
    brokenFileKeptAt: aside,
    message: `RECOVERED WITH A FRESH DATABASE: ${problem} and no usable backup. The stored target and the local API keys are lost (a new device key is generated; \`bosun key\` prints it); the cloud device key in config.json is kept, and the running containers are adopted.`,
  });
  return opened(options);
}

/** Opens, then takes a known-good copy (after each migration, at the latest). */
async function opened(options: RecoveryOptions): Promise<Store> {
  const store = await openStore(options);
  await backupDatabase(options.path, options.backupsKept, (options.now ?? Date.now)());
  return store;
}

/** Takes a backup every `intervalMs`; returns the stop function. Failures are logged, never thrown. */
export function scheduleBackups(
  dbPath: string,
  logger: Logger,
  intervalMs: number,
  keep?: number,
): () => void {
  const log = logger.child({ component: 'store' });
  const timer = setInterval(() => {
    backupDatabase(dbPath, keep).then(
      (backup) => log.debug('store.backup-taken', { backup }),
      (err: unknown) => log.error('store.backup-failed', { err }),
    );
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
