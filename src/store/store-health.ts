/**
 * What the store can say about its own health, for /v1/healthy: whether a write still reaches the disk,
 * and whether the file it has open is still the one at its path. A database deleted or replaced under
 * the running agent keeps answering every query (SQLite holds the old inode), so without this check the
 * agent looks healthy while nothing it writes would survive a restart, the device key included.
 */
import { stat } from 'node:fs/promises';
import type Database from 'better-sqlite3';
import { errorMessage } from '../shared/errors.js';
import { preparedStatements } from './sqlite-database.js';

export interface FileIdentity {
  dev: number;
  ino: number;
}

export async function fileIdentity(path: string): Promise<FileIdentity> {
  const s = await stat(path);
  return { dev: s.dev, ino: s.ino };
}

/** Undefined when the path still names the file opened; otherwise what happened to it. */
export async function databaseFileProblem(
  path: string,
  opened: FileIdentity,
): Promise<string | undefined> {
  let now: FileIdentity;
  try {
    now = await fileIdentity(path);
  } catch (err) {
    return `the database file ${path} was deleted under the running agent (${errorMessage(err)}); what it writes now is lost at the next start`;
  }
  if (now.dev !== opened.dev || now.ino !== opened.ino)
    return `the database file ${path} was replaced under the running agent (inode ${opened.ino} → ${now.ino}); restart the agent to use the new file deliberately`;
  return undefined;
}

/**
 * A real, durable write (synchronous=FULL fsyncs it) that changes nothing: knex's migration lock row is
 * set to its idle value, which it already has since only one bosun opens a database.
 */
export function probeWrite(db: Database.Database): () => Promise<void> {
  const statement = preparedStatements(db, {
    idle: 'update knex_migrations_lock set is_locked = 0',
  });
  return () => {
    try {
      statement('idle').run();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  };
}
