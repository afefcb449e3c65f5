/**
 * Opens (creating if needed) the SQLite store, brings its schema up to date and returns the
 * repositories. The directory of `path` must exist; bosun's data dir is created by the config module.
 *
 * The repositories read and write through prepared statements on one better-sqlite3 connection. knex
 * runs the schema migrations only, and is loaded only when one is pending: which migrations a database
 * has run is read with a plain query on knex's own bookkeeping table (migration-status.ts), so opening
 * an up-to-date database — every start but the first after an upgrade — never parses knex.
 */
import type Database from 'better-sqlite3';
import { MIGRATIONS } from '../../migrations/index.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { BosunError, errorMessage, isBosunError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { SqliteApiKeyRepository } from './api-key-repository.js';
import { SqliteCommitRepository } from './commit-repository.js';
import { SqliteDbConfigRepository } from './db-config-repository.js';
import { SqliteEngineSnapshotRepository } from './engine-snapshot-repository.js';
import { SqliteImageRepository } from './image-repository.js';
import type { Migration } from './migration.js';
import {
  compareMigrations,
  recordedMigrations,
  refuseUnknownMigrations,
  type MigrationStatus,
} from './migration-status.js';
import type { Store } from './ports.js';
import { makeDatabaseFilesPrivate } from './private-files.js';
import { SqliteReleaseGuardRepository } from './release-guard-repository.js';
import type { MigrationRunner } from './run-migrations.js';
import { openDatabase } from './sqlite-database.js';
import {
  databaseFileProblem,
  fileIdentity,
  probeWrite,
  type FileIdentity,
} from './store-health.js';
import { SqliteTargetStateRepository } from './target-state-repository.js';

/** Loads the knex migration runner (a chunk of its own in the build). */
export type LoadMigrationRunner = () => Promise<MigrationRunner>;

export const loadMigrationRunner: LoadMigrationRunner = async () =>
  (await import('./run-migrations.js')).runPendingMigrations;

export interface OpenStoreOptions {
  /** The SQLite file (created when missing). */
  path: string;
  logger: Logger;
  /** Timestamps rows; the system clock by default. */
  clock?: Clock;
  /** Tests pass a prefix of the list to build a database at an older schema. */
  migrations?: readonly Migration[];
  /** How the migration runner is loaded when a migration is pending; tests count the calls. */
  loadMigrationRunner?: LoadMigrationRunner;
}

function openFailed(path: string, err: unknown): BosunError {
  return new BosunError('STORE_ERROR', `cannot open database ${path}: ${errorMessage(err)}`, {
    cause: err,
  });
}

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const logger = options.logger.child({ component: 'store' });
  const clock = options.clock ?? systemClock;
  const path = options.path;
  let db: Database.Database | undefined;
  try {
    await makeDatabaseFilesPrivate(path);
    db = openDatabase(path);
    // The -wal and -shm it just made inherit the database's mode; say it explicitly all the same.
    await makeDatabaseFilesPrivate(path);
  } catch (err) {
    db?.close();
    throw openFailed(path, err);
  }
  try {
    const schema = await bringSchemaUpToDate(db, options, logger);
    logger.info('store.opened', { path, schema });
    return buildStore(db, clock, path, await fileIdentity(path));
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Runs the pending migrations, if any, loading knex only then; returns the schema's newest migration. */
async function bringSchemaUpToDate(
  db: Database.Database,
  options: OpenStoreOptions,
  logger: Logger,
): Promise<string | undefined> {
  const migrations = options.migrations ?? MIGRATIONS;
  let status: MigrationStatus;
  try {
    status = compareMigrations(recordedMigrations(db), migrations);
  } catch (err) {
    throw new BosunError(
      'MIGRATION_FAILED',
      `cannot read the migration state of ${options.path}: ${errorMessage(err)}`,
      { cause: err },
    );
  }
  refuseUnknownMigrations(status, migrations, options.path);
  if (status.pending.length > 0) {
    logger.info('store.migrating', { path: options.path, pending: status.pending });
    let run: MigrationRunner;
    try {
      run = await (options.loadMigrationRunner ?? loadMigrationRunner)();
    } catch (err) {
      throw new BosunError(
        'MIGRATION_FAILED',
        `cannot load the migration runner to migrate ${options.path}: ${errorMessage(err)}`,
        { cause: err, details: { dbPath: options.path, pending: status.pending } },
      );
    }
    await run(options.path, migrations, logger).catch((err: unknown) => {
      throw isBosunError(err)
        ? err
        : new BosunError(
            'MIGRATION_FAILED',
            `migrating ${options.path} failed: ${errorMessage(err)}`,
            {
              cause: err,
            },
          );
    });
  }
  return [...status.applied, ...status.pending].at(-1);
}

function buildStore(
  db: Database.Database,
  clock: Clock,
  path: string,
  opened: FileIdentity,
): Store {
  let closing: Promise<void> | undefined;
  const health = probeWrite(db);
  return {
    targets: new SqliteTargetStateRepository(db, clock),
    images: new SqliteImageRepository(db),
    commits: new SqliteCommitRepository(db, clock),
    apiKeys: new SqliteApiKeyRepository(db),
    config: new SqliteDbConfigRepository(db),
    engineSnapshots: new SqliteEngineSnapshotRepository(db),
    releases: new SqliteReleaseGuardRepository(db),
    probeWrite: health,
    fileProblem: () => databaseFileProblem(path, opened),
    // Idempotent: main.ts and tests may both close on shutdown. Closing checkpoints the WAL.
    close: () =>
      (closing ??= Promise.resolve().then(() => {
        db.close();
      })),
  };
}
