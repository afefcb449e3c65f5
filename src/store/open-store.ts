/**
 * Opens (creating if needed) the SQLite store, brings its schema up to date and returns the
 * repositories. The directory of `path` must exist; bosun's data dir is created by the config module.
 */
import type { Knex } from 'knex';
import { MIGRATIONS } from '../../migrations/index.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { BosunError, errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { SqliteApiKeyRepository } from './api-key-repository.js';
import { SqliteCommitRepository } from './commit-repository.js';
import { createKnex } from './connection.js';
import { SqliteDbConfigRepository } from './db-config-repository.js';
import { SqliteEngineSnapshotRepository } from './engine-snapshot-repository.js';
import { SqliteImageRepository } from './image-repository.js';
import { SqliteReleaseGuardRepository } from './release-guard-repository.js';
import type { Migration } from './migration.js';
import { migrateToLatest } from './migrate.js';
import { makeDatabaseFilesPrivate } from './private-files.js';
import type { Store } from './ports.js';
import {
  databaseFileProblem,
  fileIdentity,
  probeWrite,
  type FileIdentity,
} from './store-health.js';
import { SqliteTargetStateRepository } from './target-state-repository.js';

export interface OpenStoreOptions {
  /** The SQLite file (created when missing). */
  path: string;
  logger: Logger;
  /** Timestamps rows; the system clock by default. */
  clock?: Clock;
  /** Tests pass a prefix of the list to build a database at an older schema. */
  migrations?: readonly Migration[];
}

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const logger = options.logger.child({ component: 'store' });
  const clock = options.clock ?? systemClock;
  try {
    await makeDatabaseFilesPrivate(options.path);
  } catch (err) {
    throw new BosunError(
      'STORE_ERROR',
      `cannot open database ${options.path}: ${errorMessage(err)}`,
      { cause: err },
    );
  }
  const knex = createKnex(options.path, logger);
  try {
    // Opening is lazy in knex: this first query creates the connection and applies the pragmas.
    await knex.raw('select 1');
    // The -wal and -shm it just made inherit the database's mode; say it explicitly all the same.
    await makeDatabaseFilesPrivate(options.path);
  } catch (err) {
    await knex.destroy();
    throw new BosunError(
      'STORE_ERROR',
      `cannot open database ${options.path}: ${errorMessage(err)}`,
      { cause: err },
    );
  }
  try {
    const status = await migrateToLatest(knex, options.migrations ?? MIGRATIONS, options.path);
    logger.info('store.opened', { path: options.path, schema: status.applied.at(-1) });
  } catch (err) {
    await knex.destroy();
    throw err;
  }
  return buildStore(knex, clock, options.path, await fileIdentity(options.path));
}

function buildStore(knex: Knex, clock: Clock, path: string, opened: FileIdentity): Store {
  let closing: Promise<void> | undefined;
  return {
    targets: new SqliteTargetStateRepository(knex, clock),
    images: new SqliteImageRepository(knex),
    commits: new SqliteCommitRepository(knex, clock),
    apiKeys: new SqliteApiKeyRepository(knex),
    config: new SqliteDbConfigRepository(knex),
    engineSnapshots: new SqliteEngineSnapshotRepository(knex),
    releases: new SqliteReleaseGuardRepository(knex),
    probeWrite: () => probeWrite(knex),
    fileProblem: () => databaseFileProblem(path, opened),
    // Idempotent: main.ts and tests may both close on shutdown.
    close: () => (closing ??= knex.destroy()),
  };
}
