/**
 * The shape of one schema migration. Migrations live in /migrations as TypeScript modules, numbered
 * and forward-only, and are listed in migrations/index.ts so they load the same way from tsx (tests)
 * and from the compiled dist/ (runtime) without scanning directories.
 */
import type { Knex } from 'knex';

export interface Migration {
  /** `NNNN_what_it_does`; recorded in knex_migrations, so never rename a released one. */
  readonly name: string;
  up(knex: Knex): Promise<void>;
}
