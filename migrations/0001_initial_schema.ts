/**
 * The first schema. JSON documents are stored as TEXT and validated when read back. Table and
 * column names are bosun's own (snake_case); nothing reads balena-supervisor's database directly.
 */
import type { Knex } from 'knex';
import type { Migration } from '../src/store/migration.js';

export const initialSchema: Migration = {
  name: '0001_initial_schema',
  async up(knex: Knex): Promise<void> {
    // DB-sourced settings; values are JSON-encoded so booleans and strings round-trip with their type.
    await knex.schema.createTable('config', (t) => {
      t.text('key').primary();
      t.text('value').notNullable();
    });

    // One row per target origin ('local' or 'cloud:<endpoint>'): device name and config vars.
    await knex.schema.createTable('target_device', (t) => {
      t.text('origin').primary();
      t.text('name').notNullable();
      t.text('config').notNullable();
      t.text('saved_at').notNullable();
    });

    // Raw target app documents; an app uuid may be targeted by the cloud and locally at the same time.
    await knex.schema.createTable('target_app', (t) => {
      t.text('origin')
        .notNullable()
        .references('origin')
        .inTable('target_device')
        .onDelete('CASCADE');
      t.text('uuid').notNullable();
      t.text('document').notNullable();
      t.primary(['origin', 'uuid']);
    });

    await knex.schema.createTable('image', (t) => {
      t.increments('id');
      t.text('name').notNullable();
      t.text('engine_id');
      t.text('app_uuid').notNullable();
      t.text('service_name').notNullable();
      t.text('commit').notNullable();
      t.unique(['name', 'app_uuid', 'service_name', 'commit']);
      t.index(['engine_id']);
    });

    await knex.schema.createTable('current_commit', (t) => {
      t.text('app_uuid').primary();
      t.text('commit').notNullable();
      t.text('updated_at').notNullable();
    });

    // service_name is '' for the device-wide key: SQLite unique indexes treat NULLs as distinct.
    await knex.schema.createTable('api_key', (t) => {
      t.text('key').primary();
      t.integer('app_id').notNullable();
      t.text('service_name').notNullable().defaultTo('');
      t.text('scopes').notNullable();
      t.unique(['app_id', 'service_name']);
    });

    // At most one snapshot: the row id is pinned to 1.
    await knex.schema.createTable('engine_snapshot', (t) => {
      t.integer('id').primary();
      t.text('snapshot').notNullable();
      t.text('taken_at').notNullable();
      t.check('?? = 1', ['id']);
    });
  },
};
