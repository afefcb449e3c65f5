/**
 * Which migrations a database has run, read with one plain query on knex's own bookkeeping table
 * (`knex_migrations`, one row per migration run, by name), so that opening an up-to-date database never
 * loads knex. Databases migrated by any earlier bosun (knex all the way) are read the same way.
 */
import type Database from 'better-sqlite3';
import { BosunError } from '../shared/errors.js';
import type { Migration } from './migration.js';

export const MIGRATIONS_TABLE = 'knex_migrations';

export interface MigrationStatus {
  /** Known migrations already run, in order. */
  applied: string[];
  /** Known migrations not run yet. */
  pending: string[];
  /** Migrations the database has run that this bosun does not know (a newer bosun ran them). */
  unknown: string[];
}

/** Compares the names a database recorded with the migrations this bosun knows. */
export function compareMigrations(
  recorded: readonly string[],
  migrations: readonly Migration[],
): MigrationStatus {
  const known = migrations.map((m) => m.name);
  return {
    applied: known.filter((name) => recorded.includes(name)),
    pending: known.filter((name) => !recorded.includes(name)),
    unknown: recorded.filter((name) => !known.includes(name)),
  };
}

/** The names recorded in knex_migrations; none when the table does not exist yet (a new database). */
export function recordedMigrations(db: Database.Database): string[] {
  const table = db
    .prepare("select 1 from sqlite_master where type = 'table' and name = ?")
    .get(MIGRATIONS_TABLE);
  if (table === undefined) return [];
  const rows = db.prepare(`select name from ${MIGRATIONS_TABLE}`).all() as { name: string }[];
  return rows.map((row) => row.name);
}

/** Refuses a database that a newer bosun migrated: its schema may mean something this code does not know. */
export function refuseUnknownMigrations(
  status: MigrationStatus,
  migrations: readonly Migration[],
  dbPath: string,
): void {
  if (status.unknown.length === 0) return;
  throw new BosunError(
    'MIGRATION_FAILED',
    `database ${dbPath} was migrated by a newer bosun (unknown migrations: ${status.unknown.join(', ')}; ` +
      `this bosun knows up to ${migrations.at(-1)?.name ?? 'none'}); upgrade bosun or move the database aside`,
    { details: { dbPath, unknown: status.unknown } },
  );
}
