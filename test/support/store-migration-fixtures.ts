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
  // Adds release_guard: a device that ran a release before keeps its commit and target untouched.
  '0002_release_guard': {
    async seedBefore(knex) {
      await knex('current_commit').insert({
        app_uuid: 'a1',
        commit: 'c1',
        updated_at: new Date(0).toISOString(),
      });
    },
    async verifyAfter(knex) {
      const row = (await knex('current_commit').where({ app_uuid: 'a1' }).first()) as
        { commit: string } | undefined;
      if (row?.commit !== 'c1') throw new Error('current_commit lost by 0002');
      if ((await knex('release_guard').count({ n: '*' }))[0]?.['n'] !== 0)
        throw new Error('release_guard should start empty');
    },
  },
};
