/**
 * For every migration: data written at the schema just before it (raw SQL, since the repositories
 * follow the newest schema) and a check, after migrating, that the data is still there and readable.
 * store-migrations.spec.ts fails when a migration has no fixture here, so each new migration must add one.
 */
import type { Knex } from 'knex';

export interface MigrationFixture {
  /** Writes representative rows at the previous schema. */
  seedBefore(knex: Knex): Promise<void>;
  /** Asserts after the migration (throws on failure). */
  verifyAfter(knex: Knex): Promise<void>;
}

export const MIGRATION_FIXTURES: Record<string, MigrationFixture> = {
  // From an empty file: nothing to keep; every table of the first schema must exist afterwards.
  '0001_initial_schema': {
    seedBefore: () => Promise.resolve(),
    async verifyAfter(knex) {
      for (const table of [
        'config',
        'target_device',
        'target_app',
        'image',
        'current_commit',
        'api_key',
        'engine_snapshot',
      ]) {
        if (!(await knex.schema.hasTable(table)))
          throw new Error(`table ${table} missing after 0001`);
      }
    },
  },
};
