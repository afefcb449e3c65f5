import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { isBosunError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store, TargetOrigin } from '../../src/store/ports.js';
import { makeTempDir, type TempDir } from '../support/store-temp.js';

const LOCAL: TargetOrigin = { kind: 'local' };
const CLOUD: TargetOrigin = { kind: 'cloud', endpoint: 'https://api.example.test' };

describe('store (real SQLite file)', () => {
  let dir: TempDir;
  let dbPath: string;
  let store: Store;

  beforeEach(async () => {
    dir = makeTempDir();
    dbPath = dir.file('bosun.sqlite');
    store = await openStore({ path: dbPath, logger: silentLogger() });
  });
  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  /** A second, raw connection for looking behind the repositories (or corrupting rows on purpose). */
  function raw<T>(use: (db: Database.Database) => T): T {
    const db = new Database(dbPath);
    try {
      return use(db);
    } finally {
      db.close();
    }
  }

  describe('opening', () => {
    it('puts the file in WAL mode', () => {
      assert.equal(
        raw((db) => db.pragma('journal_mode', { simple: true })),
        'wal',
      );
    });

    it('keeps data across close and reopen, and close checkpoints the WAL away', async () => {
      await store.commits.set('app1', 'abc');
      await store.close();
      assert.equal(
        existsSync(`${dbPath}-wal`),
        false,
        'WAL file left behind: the connection was not closed',
      );
      store = await openStore({ path: dbPath, logger: silentLogger() });
      assert.equal(await store.commits.get('app1'), 'abc');
    });

    it('close can be called twice', async () => {
      await store.close();
      await store.close();
    });

    it('fails with STORE_ERROR naming the path when the directory does not exist', async () => {
      const path = dir.file('missing/dir/bosun.sqlite');
      await assert.rejects(openStore({ path, logger: silentLogger() }), (err) => {
        assert.ok(isBosunError(err, 'STORE_ERROR'), String(err));
        assert.match(err.message, /missing\/dir\/bosun\.sqlite/);
        return true;
      });
    });

    it('fails with STORE_ERROR when the file is not a database, and leaves it alone', async () => {
      const path = dir.file('garbage.sqlite');
      const garbage = 'this is not sqlite '.repeat(400);
      writeFileSync(path, garbage);
      await assert.rejects(openStore({ path, logger: silentLogger() }), (err) => {
        assert.ok(isBosunError(err, 'STORE_ERROR'), String(err));
        assert.match(err.message, /garbage\.sqlite/);
        return true;
      });
    });
  });

  describe('targets', () => {
    const target = {
      name: 'pi-kitchen',
      config: { BALENA_SUPERVISOR_POLL_INTERVAL: '600000' },
      apps: {
        aaa: { id: 1, name: 'one', releases: { c1: { services: { main: { image: 'x' } } } } },
        bbb: {
          id: 2,
          name: 'two',
          class: 'fleet',
          is_host: false,
          nested: [1, 'two', null, { three: true }],
        },
      },
    };

    it('is unset until a target is saved, and undefined is loaded for an origin never saved', async () => {
      assert.equal(await store.targets.isSet(), false);
      assert.equal(await store.targets.load(LOCAL), undefined);
      await store.targets.save(CLOUD, target);
      assert.equal(await store.targets.isSet(), true);
      assert.equal(await store.targets.isSet(CLOUD), true);
      assert.equal(await store.targets.isSet(LOCAL), false);
    });

    it('reads back exactly what was saved', async () => {
      await store.targets.save(CLOUD, target);
      assert.deepEqual(await store.targets.load(CLOUD), target);
    });

    it('replaces the whole target of an origin: apps missing from the new one are gone', async () => {
      await store.targets.save(CLOUD, target);
      const next = { name: 'renamed', config: {}, apps: { ccc: { id: 3 } } };
      await store.targets.save(CLOUD, next);
      assert.deepEqual(await store.targets.load(CLOUD), next);
    });

    it('keeps origins apart: a local push does not touch the cloud target, even for the same app uuid', async () => {
      await store.targets.save(CLOUD, target);
      const local = {
        name: 'dev',
        config: { SUPERVISOR_LOCAL_MODE: '1' },
        apps: { aaa: { id: 1, local: true } },
      };
      await store.targets.save(LOCAL, local);
      assert.deepEqual(await store.targets.load(CLOUD), target);
      assert.deepEqual(await store.targets.load(LOCAL), local);
      const otherCloud: TargetOrigin = { kind: 'cloud', endpoint: 'https://other.example.test' };
      assert.equal(await store.targets.load(otherCloud), undefined);
    });

    it('clear forgets the origin and its apps (foreign keys are on)', async () => {
      await store.targets.save(LOCAL, target);
      await store.targets.save(CLOUD, target);
      await store.targets.clear(LOCAL);
      assert.equal(await store.targets.load(LOCAL), undefined);
      assert.deepEqual(await store.targets.load(CLOUD), target);
      const orphans = raw((db) =>
        db.prepare(`select count(*) as n from target_app where origin = 'local'`).get(),
      );
      assert.deepEqual(orphans, { n: 0 });
    });

    it('stores a target with more apps than SQLite binds in one statement', async () => {
      const apps = Object.fromEntries(
        Array.from({ length: 1500 }, (_, i) => [`app${String(i).padStart(4, '0')}`, { id: i }]),
      );
      await store.targets.save(CLOUD, { name: 'many', config: {}, apps });
      const loaded = await store.targets.load(CLOUD);
      assert.equal(Object.keys(loaded!.apps).length, 1500);
      assert.deepEqual(loaded!.apps['app1499'], { id: 1499 });
    });

    it('a save that fails midway keeps the previous target whole', async () => {
      await store.targets.save(CLOUD, target);
      // SQLite itself aborts the insert of one app, after the device row and the old apps were changed.
      raw((db) =>
        db.exec(`create trigger fail_zzz before insert on target_app when new.uuid = 'zzz'
                 begin select raise(abort, 'refused by test trigger'); end`),
      );
      const next = { name: 'half', config: {}, apps: { aaa: { id: 9 }, zzz: { id: 10 } } };
      await assert.rejects(store.targets.save(CLOUD, next), (err) =>
        isBosunError(err, 'STORE_ERROR'),
      );
      assert.deepEqual(await store.targets.load(CLOUD), target);
    });

    it('a target JSON cannot hold is refused with STORE_ERROR before anything is written', async () => {
      await store.targets.save(CLOUD, target);
      const bad = { name: 'bad', config: {}, apps: { zzz: { n: 1n } } } as unknown as typeof target;
      await assert.rejects(store.targets.save(CLOUD, bad), (err) =>
        isBosunError(err, 'STORE_ERROR'),
      );
      assert.deepEqual(await store.targets.load(CLOUD), target);
    });

    it('reports a corrupted app document as STORE_ERROR naming the row', async () => {
      await store.targets.save(CLOUD, target);
      raw((db) =>
        db.prepare(`update target_app set document = '{"half": ' where uuid = 'bbb'`).run(),
      );
      await assert.rejects(store.targets.load(CLOUD), (err) => {
        assert.ok(isBosunError(err, 'STORE_ERROR'), String(err));
        assert.match(err.message, /target_app\(cloud:https:\/\/api\.example\.test, bbb\)/);
        return true;
      });
    });
  });

  describe('images', () => {
    const image = {
      name: 'registry.test/app@sha256:aa',
      engineId: undefined,
      appUuid: 'u1',
      serviceName: 'main',
      commit: 'c1',
    };

    it('records, updates the engine id in place, lists and removes', async () => {
      await store.images.record(image);
      await store.images.record({ ...image, engineId: 'sha256:1111' });
      await store.images.record({ ...image, serviceName: 'worker', engineId: 'sha256:1111' });
      assert.deepEqual(await store.images.list(), [
        { ...image, engineId: 'sha256:1111' },
        { ...image, serviceName: 'worker', engineId: 'sha256:1111' },
      ]);
      assert.equal(await store.images.isSupervised('sha256:1111'), true);
      assert.equal(await store.images.isSupervised('sha256:2222'), false);
      await store.images.remove(image);
      assert.equal((await store.images.list()).length, 1);
      await store.images.remove({ ...image, serviceName: 'worker' });
      assert.equal(await store.images.isSupervised('sha256:1111'), false);
      await store.images.remove(image); // absent: no error
    });
  });

  describe('commits', () => {
    it('sets, overwrites, lists and removes per app uuid', async () => {
      assert.equal(await store.commits.get('u1'), undefined);
      await store.commits.set('u1', 'c1');
      await store.commits.set('u2', 'c2');
      await store.commits.set('u1', 'c3');
      assert.deepEqual(await store.commits.all(), { u1: 'c3', u2: 'c2' });
      await store.commits.remove('u2');
      assert.deepEqual(await store.commits.all(), { u1: 'c3' });
    });
  });

  describe('API keys', () => {
    it('creates one stable global key of 32 hex chars, kept across reopen', async () => {
      const key = await store.apiKeys.globalKey();
      assert.match(key, /^[0-9a-f]{32}$/);
      const [again1, again2] = await Promise.all([
        store.apiKeys.globalKey(),
        store.apiKeys.globalKey(),
      ]);
      assert.equal(again1, key);
      assert.equal(again2, key);
      await store.close();
      store = await openStore({ path: dbPath, logger: silentLogger() });
      assert.equal(await store.apiKeys.globalKey(), key);
      assert.deepEqual(await store.apiKeys.find(key), {
        key,
        appId: 0,
        serviceName: undefined,
        scopes: [{ type: 'global' }],
      });
    });

    it('creates one key per app service, scoped to the app', async () => {
      const main = await store.apiKeys.appKey(7, 'main');
      const worker = await store.apiKeys.appKey(7, 'worker');
      assert.notEqual(main, worker);
      assert.equal(await store.apiKeys.appKey(7, 'main'), main);
      assert.deepEqual(await store.apiKeys.find(worker), {
        key: worker,
        appId: 7,
        serviceName: 'worker',
        scopes: [{ type: 'app', appId: 7 }],
      });
      assert.equal(await store.apiKeys.find('0'.repeat(32)), undefined);
    });

    it('regenerate replaces the key with the same owner and scopes; the old one stops working', async () => {
      const old = await store.apiKeys.appKey(7, 'main');
      const fresh = await store.apiKeys.regenerate(old);
      assert.ok(fresh);
      assert.match(fresh, /^[0-9a-f]{32}$/);
      assert.notEqual(fresh, old);
      assert.equal(await store.apiKeys.find(old), undefined);
      assert.deepEqual((await store.apiKeys.find(fresh))?.scopes, [{ type: 'app', appId: 7 }]);
      assert.equal(await store.apiKeys.appKey(7, 'main'), fresh);
      assert.equal(await store.apiKeys.regenerate(old), undefined);
    });

    it('removeAppKeys removes only that app and never the global key', async () => {
      const global = await store.apiKeys.globalKey();
      const a = await store.apiKeys.appKey(7, 'main');
      const b = await store.apiKeys.appKey(8, 'main');
      await store.apiKeys.removeAppKeys(7);
      await store.apiKeys.removeAppKeys(0);
      assert.equal(await store.apiKeys.find(a), undefined);
      assert.ok(await store.apiKeys.find(b));
      assert.ok(await store.apiKeys.find(global));
    });

    it('refuses an app key for app 0 or without a service name', async () => {
      await assert.rejects(store.apiKeys.appKey(0, 'main'), (err) =>
        isBosunError(err, 'VALIDATION_FAILED'),
      );
      await assert.rejects(store.apiKeys.appKey(3, ''), (err) =>
        isBosunError(err, 'VALIDATION_FAILED'),
      );
    });
  });

  describe('DB config', () => {
    it('round-trips typed values and removes them', async () => {
      assert.equal(await store.config.get('localMode'), undefined);
      await store.config.set('localMode', true);
      await store.config.set('name', 'kitchen');
      await store.config.set('initialConfigReported', '');
      assert.equal(await store.config.get('localMode'), true);
      assert.equal(await store.config.get('name'), 'kitchen');
      assert.equal(await store.config.get('initialConfigReported'), '');
      await store.config.set('localMode', false);
      assert.equal(await store.config.get('localMode'), false);
      await store.config.remove('localMode');
      assert.equal(await store.config.get('localMode'), undefined);
    });

    it('rejects a wrongly typed value on write (VALIDATION_FAILED) and on read (STORE_ERROR)', async () => {
      const sneaky = 'yes' as unknown as boolean;
      await assert.rejects(store.config.set('localMode', sneaky), (err) => {
        assert.ok(isBosunError(err, 'VALIDATION_FAILED'), String(err));
        assert.match(err.message, /localMode/);
        return true;
      });
      raw((db) =>
        db
          .prepare(`insert into config (key, value) values ('initialConfigSaved', '"maybe"')`)
          .run(),
      );
      await assert.rejects(store.config.get('initialConfigSaved'), (err) => {
        assert.ok(isBosunError(err, 'STORE_ERROR'), String(err));
        assert.match(err.message, /initialConfigSaved/);
        return true;
      });
    });
  });

  describe('engine snapshot', () => {
    it('saves, replaces, loads and clears a single snapshot', async () => {
      assert.equal(await store.engineSnapshots.load(), undefined);
      const first = { containers: ['c1'], images: ['i1'], volumes: [], networks: ['n1'] };
      const second = { containers: [], images: ['i1', 'i2'], volumes: ['v'], networks: [] };
      await store.engineSnapshots.save(first, new Date('2026-01-01T00:00:00.000Z'));
      await store.engineSnapshots.save(second, new Date('2026-01-02T00:00:00.000Z'));
      assert.deepEqual(await store.engineSnapshots.load(), {
        snapshot: second,
        takenAt: new Date('2026-01-02T00:00:00.000Z'),
      });
      assert.deepEqual(
        raw((db) => db.prepare('select count(*) as n from engine_snapshot').get()),
        { n: 1 },
      );
      await store.engineSnapshots.clear();
      assert.equal(await store.engineSnapshots.load(), undefined);
    });
  });
});
