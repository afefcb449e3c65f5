/**
 * One knex instance over one better-sqlite3 connection. A single connection serialises every query
 * and transaction in this process, so bosun never races itself into SQLITE_BUSY.
 *
 * Durability: WAL with synchronous=FULL. WAL alone already survives SIGKILL (a commit is in the WAL
 * before the call returns); FULL also fsyncs the WAL on every commit, so a power cut — the usual way
 * an IoT board stops — cannot lose a target or an API key that bosun already acted on. bosun writes
 * a few rows per target change, so the fsync cost is irrelevant.
 */
import type Database from 'better-sqlite3';
import knexFactory, { type Knex } from 'knex';
import type { Logger } from '../shared/logger.js';

const BUSY_TIMEOUT_MS = 5000;

type Done = (err: Error | null, connection: Database.Database) => void;

function configureConnection(connection: Database.Database, done: Done): void {
  try {
    const mode = connection.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`SQLite refused WAL journal mode (got ${String(mode)})`);
    connection.pragma('synchronous = FULL');
    connection.pragma('foreign_keys = ON');
    connection.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    done(null, connection);
  } catch (err) {
    done(err instanceof Error ? err : new Error(String(err)), connection);
  }
}

/** knex prints to the console by default; route its messages into the structured log instead. */
function knexLog(logger: Logger): Knex.Config['log'] {
  const text = (message: unknown): string =>
    message instanceof Error ? message.message : String(message);
  return {
    warn: (message: unknown) => logger.warn('store.knex-warning', { message: text(message) }),
    error: (message: unknown) => logger.error('store.knex-error', { message: text(message) }),
    deprecate: (method: string, alternative: string) =>
      logger.debug('store.knex-deprecation', { method, alternative }),
    debug: (message: unknown) => logger.debug('store.knex-debug', { message: text(message) }),
  };
}

export function createKnex(path: string, logger: Logger): Knex {
  return knexFactory({
    log: knexLog(logger),
    client: 'better-sqlite3',
    connection: { filename: path },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate: configureConnection,
      // The pool's reaper would wake the process every second to look for idle connections to close;
      // with exactly one connection kept for the agent's life there is never one to reap, and an idle
      // agent must not wake up for nothing (BENCHMARKS.md, idle wake-ups).
      idleTimeoutMillis: 2 ** 31 - 1,
      reapIntervalMillis: 2 ** 31 - 1,
    },
  });
}
