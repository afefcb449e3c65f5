import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import { MIGRATIONS } from '../../migrations/index.js';
import { isBosunError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import { createKnex } from '../../src/store/connection.js';
import { migrationStatus } from '../../src/store/migrate.js';
import type { Migration } from '../../src/store/migration.js';
import { openStore } from '../../src/store/open-store.js';
import { MIGRATION_FIXTURES } from '../support/store-migration-fixtures.js';
import { makeTempDir, type TempDir } from '../support/store-temp.js';

const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), '../../migrations');

describe('store migrations', () => {
  let dir: TempDir;
  let dbPath: string;

  beforeEach(() => {
    dir = makeTempDir();
    dbPath = dir.file('bosun.sqlite');
  });
  afterEach(() => dir.remove());

  async function withKnex<T>(use: (knex: Knex) => Promise<T>): Promise<T> {
    const knex = createKnex(dbPath, silentLogger());
    try {
      return await use(knex);
    } finally {
      await knex.destroy();
    }
  }

  async function migrateWith(migrations: readonly Migration[]): Promise<void> {
    const store = await openStore({ path: dbPath, logger: silentLogger(), migrations });
    await store.close();
  }

  it('lists every migration file, in numeric order, with its file name as its name', () => {
    const files = readdirSync(migrationsDir)
      .filter((f) => /^\d{4}_.+\.ts$/.test(f))
      .sort()
      .map((f) => f.replace(/\.ts$/, ''));
    assert.deepEqual(
      MIGRATIONS.map((m) => m.name),
      files,
    );
  });

  for (const [index, migration] of MIGRATIONS.entries()) {
    it(`${migration.name}: migrates a database made at the previous schema and keeps its data`, async () => {
      const fixture = MIGRATION_FIXTURES[migration.name];
      assert.ok(
        fixture,
        `add a fixture for ${migration.name} to test/support/store-migration-fixtures.ts`,
      );
      await migrateWith(MIGRATIONS.slice(0, index));
      await withKnex((knex) => fixture.seedBefore(knex));
      await migrateWith(MIGRATIONS.slice(0, index + 1));
      await withKnex(async (knex) => {
        await fixture.verifyAfter(knex);
        const status = await migrationStatus(knex, MIGRATIONS.slice(0, index + 1));
        assert.deepEqual(status.pending, []);
      });
    });
  }

  it('a newer database is refused with MIGRATION_FAILED naming the file and the unknown migration', async () => {
    await migrateWith(MIGRATIONS);
    await withKnex((knex) =>
      knex('knex_migrations').insert({
        name: '9999_from_the_future',
        batch: 99,
        migration_time: new Date(),
      }),
    );
    await assert.rejects(openStore({ path: dbPath, logger: silentLogger() }), (err) => {
      assert.ok(isBosunError(err, 'MIGRATION_FAILED'), String(err));
      assert.match(err.message, /9999_from_the_future/);
      assert.ok(err.message.includes(dbPath), err.message);
      assert.match(err.message, /newer bosun/);
      return true;
    });
  });

  it('a failing migration keeps the previous schema and data, and reports MIGRATION_FAILED', async () => {
    const store = await openStore({ path: dbPath, logger: silentLogger() });
    await store.commits.set('u1', 'c1');
    await store.close();
    const broken: Migration = {
      name: '9000_broken',
      async up(knex) {
        await knex.schema.createTable('half_done', (t) => t.text('x'));
        await knex('current_commit').delete();
        throw new Error('boom in the middle');
      },
    };
    await assert.rejects(migrateWith([...MIGRATIONS, broken]), (err) => {
      assert.ok(isBosunError(err, 'MIGRATION_FAILED'), String(err));
      assert.match(err.message, /boom in the middle/);
      return true;
    });
    await withKnex(async (knex) => {
      assert.equal(await knex.schema.hasTable('half_done'), false);
      assert.deepEqual(await knex('current_commit').select('app_uuid', 'commit'), [
        { app_uuid: 'u1', commit: 'c1' },
      ]);
      assert.deepEqual((await migrationStatus(knex, MIGRATIONS)).pending, []);
    });
  });

  it('a migration lock left by a killed process does not block the next start', async () => {
    await migrateWith(MIGRATIONS.slice(0, 1));
    await withKnex((knex) => knex('knex_migrations_lock').update({ is_locked: 1 }));
    const extra: Migration = {
      name: '9001_extra',
      up: (knex) => knex.schema.createTable('extra', (t) => t.text('x')),
    };
    await migrateWith([...MIGRATIONS, extra]);
    await withKnex(async (knex) => assert.equal(await knex.schema.hasTable('extra'), true));
  });
});
