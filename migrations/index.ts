/**
 * Every migration, oldest first. Append new ones at the end; never edit, reorder or remove one that
 * has shipped (a database records the names it has run, and an older bosun refuses a newer database).
 * test/integration/store-migrations.spec.ts fails when a file in this folder is missing from this list.
 */
import type { Migration } from '../src/store/migration.js';
import { initialSchema } from './0001_initial_schema.js';
import { releaseGuard } from './0002_release_guard.js';

export const MIGRATIONS: readonly Migration[] = [initialSchema, releaseGuard];
