/**
 * Known-good copies of the database, taken with SQLite's online backup API (better-sqlite3's
 * `backup()`), which copies a consistent snapshot while the agent keeps writing. Taken after every
 * successful open (so after each migration) and on a schedule; at most `keep` are kept. Files are 0600
 * like the database (they hold the API keys) and sit next to it: `<db>.backup-<epoch ms>`.
 */
import Database from 'better-sqlite3';
import { readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SQLITE_ADDON_PATH } from '../shared/sqlite-addon.js';
import { makePrivate } from './private-files.js';

export const DEFAULT_BACKUPS_KEPT = 3;

const SUFFIX = '.backup-';

/** Backups of `dbPath`, newest first. */
export async function listBackups(dbPath: string): Promise<string[]> {
  const dir = dirname(dbPath);
  const prefix = `${basename(dbPath)}${SUFFIX}`;
  const names = (await readdir(dir)).filter(
    (n) => n.startsWith(prefix) && /^\d+$/.test(n.slice(prefix.length)),
  );
  return names
    .sort((a, b) => Number(b.slice(prefix.length)) - Number(a.slice(prefix.length)))
    .map((n) => join(dir, n));
}

/** Whether the file opens as a database and passes SQLite's quick integrity check. */
export function passesIntegrityCheck(path: string): boolean {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, {
      readonly: true,
      fileMustExist: true,
      nativeBinding: SQLITE_ADDON_PATH,
    });
    return db.pragma('quick_check', { simple: true }) === 'ok';
  } catch {
    return false;
  } finally {
    db?.close();
  }
}

/** Copies the live database to a new backup, then deletes all but the newest `keep`. Returns its path. */
export async function backupDatabase(
  dbPath: string,
  keep: number = DEFAULT_BACKUPS_KEPT,
  now: number = Date.now(),
): Promise<string> {
  const target = `${dbPath}${SUFFIX}${now}`;
  const source = new Database(dbPath, {
    readonly: true,
    fileMustExist: true,
    nativeBinding: SQLITE_ADDON_PATH,
  });
  try {
    await source.backup(target);
  } finally {
    source.close();
  }
  await makePrivate(target);
  for (const old of (await listBackups(dbPath)).slice(keep)) await rm(old, { force: true });
  return target;
}
