/**
 * The store's one better-sqlite3 connection, which every repository's reads and writes go through as
 * prepared statements. A single synchronous connection serialises every statement and transaction in
 * this process, so bosun never races itself into SQLITE_BUSY, and a transaction runs start to end
 * without another caller's statement in between.
 *
 * Durability: WAL with synchronous=FULL. WAL alone already survives SIGKILL (a commit is in the WAL
 * before the call returns); FULL also fsyncs the WAL on every commit, so a power cut — the usual way
 * an IoT board stops — cannot lose a target or an API key that bosun already acted on. bosun writes
 * a few rows per target change, so the fsync cost is irrelevant. The migration runner's knex connection
 * (connection.ts) applies the same settings.
 */
import Database from 'better-sqlite3';
import { SQLITE_ADDON_PATH } from '../shared/sqlite-addon.js';

export const BUSY_TIMEOUT_MS = 5000;

/** Applies bosun's connection settings; throws when SQLite refuses one (e.g. the file is not a database). */
export function configureConnection(connection: Database.Database): void {
  const mode = connection.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') throw new Error(`SQLite refused WAL journal mode (got ${String(mode)})`);
  connection.pragma('synchronous = FULL');
  connection.pragma('foreign_keys = ON');
  connection.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
}

/** Opens `path` (created when missing) with bosun's settings; closes it again when they fail. */
export function openDatabase(path: string): Database.Database {
  const db = new Database(path, { nativeBinding: SQLITE_ADDON_PATH });
  try {
    configureConnection(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * A repository's statements, named, each prepared on first use and then reused for the store's life.
 * The set is fixed by the repository's code (the names of `sql`), so the cache is bounded. Prepared on
 * first use rather than at open: a store opened at an older schema (tests build one) lacks the tables of
 * later migrations, and preparing a statement on a missing table fails.
 */
export function preparedStatements<Name extends string>(
  db: Database.Database,
  sql: Readonly<Record<Name, string>>,
): (name: Name) => Database.Statement {
  const prepared = new Map<Name, Database.Statement>();
  return (name) => {
    let statement = prepared.get(name);
    if (statement === undefined) {
      statement = db.prepare(sql[name]);
      prepared.set(name, statement);
    }
    return statement;
  };
}
