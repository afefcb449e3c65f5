/**
 * The store opener loads the knex migration runner only when a migration is pending (which migrations
 * ran is read with a plain query on knex_migrations). Counted through the injectable loader, on real
 * SQLite files; test/e2e/store-knex-deferred.spec.ts shows the same on the built bundle's chunks.
 */
import assert from 'node:assert/strict';
import { MIGRATIONS } from '../../migrations/index.js';
import { isBosunError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import {
  loadMigrationRunner,
  openStore,
  type LoadMigrationRunner,
} from '../../src/store/open-store.js';
import { runPendingMigrations } from '../../src/store/run-migrations.js';
import { makeTempDir, type TempDir } from '../support/store-temp.js';

describe('store opener: the migration runner is loaded only when a migration is pending', () => {
  let dir: TempDir;
  let dbPath: string;
  let loads: number;
  const countingLoader: LoadMigrationRunner = () => {
    loads += 1;
    return loadMigrationRunner();
  };
  const failingLoader: LoadMigrationRunner = () => {
    loads += 1;
    return Promise.reject(new Error('chunk missing'));
  };

  beforeEach(() => {
    dir = makeTempDir();
    dbPath = dir.file('bosun.sqlite');
    loads = 0;
  });
  afterEach(() => dir.remove());

  async function openAndClose(loader: LoadMigrationRunner): Promise<string> {
    const store = await openStore({
      path: dbPath,
      logger: silentLogger(),
      loadMigrationRunner: loader,
    });
    try {
      return await store.apiKeys.globalKey();
    } finally {
      await store.close();
    }
  }

  it('a new database loads it once; reopened up to date, it is not loaded and the data is there', async () => {
    const key = await openAndClose(countingLoader);
    assert.equal(loads, 1);
    assert.equal(await openAndClose(countingLoader), key);
    assert.equal(loads, 1, 'no migration pending: the runner is not loaded');
    // Not loaded means not needed: a loader that cannot load does not matter on an up-to-date store.
    assert.equal(await openAndClose(failingLoader), key);
  });

  it('a database migrated by knex alone (as every earlier bosun did) opens without the runner', async () => {
    await runPendingMigrations(dbPath, MIGRATIONS, silentLogger());
    await openAndClose(countingLoader);
    assert.equal(loads, 0);
  });

  it('a database one migration behind loads it and ends up at the newest schema', async () => {
    await runPendingMigrations(dbPath, MIGRATIONS.slice(0, -1), silentLogger());
    await openAndClose(countingLoader);
    assert.equal(loads, 1);
    await openAndClose(countingLoader);
    assert.equal(loads, 1);
  });

  it('a runner that cannot be loaded while a migration is pending: MIGRATION_FAILED naming the file', async () => {
    await assert.rejects(openAndClose(failingLoader), (err: unknown) => {
      assert.ok(isBosunError(err, 'MIGRATION_FAILED'));
      assert.match(err.message, /cannot load the migration runner/);
      assert.ok(err.message.includes(dbPath));
      return true;
    });
    // Nothing half-done: the next start with a working loader migrates from scratch.
    await openAndClose(countingLoader);
    assert.equal(loads, 2);
  });
});
