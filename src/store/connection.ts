/**
 * One knex instance over one better-sqlite3 connection, with the same settings as the store's own
 * connection (sqlite-database.ts: WAL, synchronous=FULL, foreign keys, busy timeout). Only the schema
 * migrations use knex (its schema builder and migration bookkeeping earn their place there); the
 * repositories' reads and writes go through prepared statements on the store's connection.
 */
import type Database from 'better-sqlite3';
import knexFactory, { type Knex } from 'knex';
import type { Logger } from '../shared/logger.js';
import { SQLITE_ADDON_PATH } from '../shared/sqlite-addon.js';
import { configureConnection } from './sqlite-database.js';

type Done = (err: Error | null, connection: Database.Database) => void;

function afterCreate(connection: Database.Database, done: Done): void {
  try {
    configureConnection(connection);
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
    connection: { filename: path, options: { nativeBinding: SQLITE_ADDON_PATH } },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate,
      // The pool's reaper would wake the process every second to look for idle connections to close;
      // with exactly one connection kept for the agent's life there is never one to reap, and an idle
      // agent must not wake up for nothing (BENCHMARKS.md, idle wake-ups).
      idleTimeoutMillis: 2 ** 31 - 1,
      reapIntervalMillis: 2 ** 31 - 1,
    },
  });
}
