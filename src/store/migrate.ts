/**
 * Runs the schema migrations through a knex migration source built from an explicit list, and refuses
 * a database that a newer bosun has migrated: its schema may mean something this code does not know.
 * Loaded only when a migration is pending (run-migrations.ts): an up-to-date store never loads knex.
 */
import type { Knex } from 'knex';
import { BosunError, errorMessage } from '../shared/errors.js';
import type { Migration } from './migration.js';
import {
  compareMigrations,
  MIGRATIONS_TABLE,
  refuseUnknownMigrations,
  type MigrationStatus,
} from './migration-status.js';

export type { MigrationStatus } from './migration-status.js';

class ListMigrationSource implements Knex.MigrationSource<Migration> {
  constructor(private readonly migrations: readonly Migration[]) {}
  getMigrations(): Promise<Migration[]> {
    return Promise.resolve([...this.migrations]);
  }
  getMigrationName(migration: Migration): string {
    return migration.name;
  }
  getMigration(migration: Migration): Promise<Knex.Migration> {
    return Promise.resolve({
      up: (knex: Knex) => migration.up(knex),
      // knex insists on a down; bosun's migrations are forward-only (restore a backup to go back).
      down: () => Promise.reject(new Error(`migration ${migration.name} is forward-only`)),
    });
  }
}

export async function migrationStatus(
  knex: Knex,
  migrations: readonly Migration[],
): Promise<MigrationStatus> {
  const recorded = (await knex.schema.hasTable(MIGRATIONS_TABLE))
    ? (await knex<{ name: string }>(MIGRATIONS_TABLE).select('name')).map((row) => row.name)
    : [];
  return compareMigrations(recorded, migrations);
}

/**
 * Brings the schema to the newest known migration. All pending migrations run in one transaction, so
 * a failure or a crash keeps the previous schema.
 */
export async function migrateToLatest(
  knex: Knex,
  migrations: readonly Migration[],
  dbPath: string,
): Promise<MigrationStatus> {
  let status: MigrationStatus;
  try {
    status = await migrationStatus(knex, migrations);
  } catch (err) {
    throw new BosunError(
      'MIGRATION_FAILED',
      `cannot read the migration state of ${dbPath}: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  }
  refuseUnknownMigrations(status, migrations, dbPath);
  if (status.pending.length === 0) return status;
  try {
    const config = {
      migrationSource: new ListMigrationSource(migrations),
      tableName: MIGRATIONS_TABLE,
    };
    // Only one bosun opens a database, so a lock left set by a killed process is stale.
    await knex.migrate.forceFreeMigrationsLock(config);
    await knex.migrate.latest(config);
  } catch (err) {
    throw new BosunError('MIGRATION_FAILED', `migrating ${dbPath} failed: ${errorMessage(err)}`, {
      cause: err,
      details: { dbPath, pending: status.pending },
    });
  }
  return { applied: [...status.applied, ...status.pending], pending: [], unknown: [] };
}
