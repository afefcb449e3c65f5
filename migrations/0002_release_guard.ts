/**
 * Health-gated rollback (src/reconciler/rollback/): per app, the last release confirmed healthy (with its
 * raw target document, to go back to), the last release that failed its confirmation window, and the
 * release being watched now (with its deadline), so an agent killed at any point resumes the same
 * decision. One row per app and role.
 */
import type { Knex } from 'knex';
import type { Migration } from '../src/store/migration.js';

export const releaseGuard: Migration = {
  name: '0002_release_guard',
  async up(knex: Knex): Promise<void> {
    await knex.schema.createTable('release_guard', (t) => {
      t.text('app_uuid').notNullable();
      // 'confirmed' | 'failed' | 'watching'
      t.text('role').notNullable();
      t.text('commit').notNullable();
      t.text('doc_hash').notNullable();
      // JSON: the role's own fields (document, images, reason, deadline, restart baselines…).
      t.text('data').notNullable();
      t.primary(['app_uuid', 'role']);
    });
  },
};
