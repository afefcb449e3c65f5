/**
 * The migration runner, as its own module so that it (and knex with it: ~13 MiB and ~0.6 s to load,
 * BENCHMARKS.md "Module weight") is imported only when a migration is pending. The build puts it in a
 * chunk of its own (scripts/build.mjs, code splitting on the dynamic import in open-store.ts).
 */
import type { Logger } from '../shared/logger.js';
import { createKnex } from './connection.js';
import { migrateToLatest } from './migrate.js';
import type { Migration } from './migration.js';

/** Runs every pending migration on its own short-lived knex connection, then closes it. */
export async function runPendingMigrations(
  path: string,
  migrations: readonly Migration[],
  logger: Logger,
): Promise<void> {
  const knex = createKnex(path, logger);
  try {
    await migrateToLatest(knex, migrations, path);
  } finally {
    await knex.destroy();
  }
}

export type MigrationRunner = typeof runPendingMigrations;
