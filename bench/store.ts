/**
 * The store's hot reads and writes, through its ports, for two implementations in the same process:
 * this checkout's src/store (prepared statements) and another checkout's (`--before DIR`, e.g. a
 * worktree of the commit before, whose repositories went through knex). The floor is the same SQL as a
 * bare better-sqlite3 prepared statement, no repository around it. Each implementation gets its own
 * fresh database file in the same directory (WAL, synchronous=FULL, as the agent opens it); rounds
 * alternate between them so a drift of the machine's speed hits both alike. Per operation: median µs
 * over `--rounds` rounds of `--ops` calls each.
 *
 * Writes fsync every commit (synchronous=FULL), so their time is mostly the disk's; reads show the
 * per-call cost of the code path itself.
 *
 * Usage: node --import tsx bench/store.ts --before /path/to/other/checkout [--rounds 7] [--ops 300]
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { silentLogger } from '../src/shared/logger.js';
import type { JsonObject, Store, StoredTarget } from '../src/store/ports.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const rounds = Number(option('rounds') ?? 7);
const ops = Number(option('ops') ?? 300);
const before = option('before');

type OpenStore = (options: {
  path: string;
  logger: ReturnType<typeof silentLogger>;
}) => Promise<Store>;

async function loadOpener(checkout: string): Promise<OpenStore> {
  const url = pathToFileURL(join(resolve(checkout), 'src/store/open-store.ts')).href;
  return ((await import(url)) as { openStore: OpenStore }).openStore;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** A five-app target with ~1 KB documents, like a small device's. */
function target(generation: number): StoredTarget {
  const apps: Record<string, JsonObject> = {};
  for (let a = 0; a < 5; a++) {
    apps[`app-${a}`] = {
      name: `app ${a}`,
      releases: {
        [`commit-${generation}`]: {
          services: {
            main: {
              image: `registry.local/app-${a}:${generation}`,
              environment: Object.fromEntries(
                Array.from({ length: 20 }, (_, i) => [`VAR_${i}`, `value-${i}`]),
              ),
              labels: { 'io.balena.features.supervisor-api': '1' },
            },
          },
        },
      },
    };
  }
  return { name: 'bench-device', config: { RESIN_SUPERVISOR_POLL_INTERVAL: '60000' }, apps };
}

const LOCAL = { kind: 'local' } as const;

interface Subject {
  name: string;
  ops: Record<string, (i: number) => unknown>;
  close(): Promise<void> | void;
}

async function storeSubject(name: string, open: OpenStore, dir: string): Promise<Subject> {
  const store = await open({ path: join(dir, `${name}.sqlite`), logger: silentLogger() });
  const key = await store.apiKeys.globalKey();
  await store.targets.save(LOCAL, target(0));
  const image = (i: number) => ({
    name: 'registry.local/app:1',
    engineId: `sha256:${i % 10}`,
    appUuid: 'app-0',
    serviceName: 'main',
    commit: 'c1',
  });
  await store.images.record(image(0));
  return {
    name,
    ops: {
      'targets.save (5 apps)': (i) => store.targets.save(LOCAL, target(i)),
      'targets.load (5 apps)': () => store.targets.load(LOCAL),
      'images.record (upsert)': (i) => store.images.record(image(i)),
      'images.isSupervised': (i) => store.images.isSupervised(`sha256:${i % 10}`),
      'apiKeys.find (each API request)': () => store.apiKeys.find(key),
      'commits.all': () => store.commits.all(),
    },
    close: () => store.close(),
  };
}

/** The same SQL as bare prepared statements: what SQLite itself costs. */
function floorSubject(dir: string, key: string): Subject {
  const db = new Database(join(dir, 'floor.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`
    create table target_device (origin text primary key, name text, config text, saved_at text);
    create table target_app (origin text references target_device(origin) on delete cascade, uuid text,
      document text, primary key (origin, uuid));
    create table image (id integer primary key, name text, engine_id text, app_uuid text,
      service_name text, "commit" text, unique (name, app_uuid, service_name, "commit"));
    create index image_engine_id on image (engine_id);
    create table api_key ("key" text primary key, app_id integer, service_name text, scopes text);
    create table current_commit (app_uuid text primary key, "commit" text, updated_at text);`);
  db.prepare('insert into api_key values (?, 0, ?, ?)').run(key, '', '[{"type":"global"}]');
  const upsertDevice = db.prepare(
    'insert into target_device values (?, ?, ?, ?) on conflict (origin) do update set name = excluded.name, config = excluded.config, saved_at = excluded.saved_at',
  );
  const deleteApps = db.prepare('delete from target_app where origin = ?');
  const insertApp = db.prepare('insert into target_app values (?, ?, ?)');
  const device = db.prepare('select * from target_device where origin = ?');
  const apps = db.prepare('select uuid, document from target_app where origin = ? order by uuid');
  const save = db.transaction((t: StoredTarget) => {
    upsertDevice.run('local', t.name, JSON.stringify(t.config), new Date().toISOString());
    deleteApps.run('local');
    for (const [uuid, doc] of Object.entries(t.apps))
      insertApp.run('local', uuid, JSON.stringify(doc));
  });
  const load = db.transaction(() => ({ d: device.get('local'), a: apps.all('local') }));
  const record = db.prepare(
    'insert into image (name, app_uuid, service_name, "commit", engine_id) values (?, ?, ?, ?, ?) on conflict (name, app_uuid, service_name, "commit") do update set engine_id = excluded.engine_id',
  );
  const supervised = db.prepare('select id from image where engine_id = ? limit 1');
  const find = db.prepare('select * from api_key where "key" = ?');
  const commits = db.prepare('select app_uuid, "commit" from current_commit order by app_uuid');
  save(target(0));
  return {
    name: 'floor: bare prepared statements',
    ops: {
      'targets.save (5 apps)': (i) => save(target(i)),
      'targets.load (5 apps)': () => load(),
      'images.record (upsert)': (i) =>
        record.run('registry.local/app:1', 'app-0', 'main', 'c1', `sha256:${i % 10}`),
      'images.isSupervised': (i) => supervised.get(`sha256:${i % 10}`),
      'apiKeys.find (each API request)': () => find.get(key),
      'commits.all': () => commits.all(),
    },
    close: () => {
      db.close();
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'bosun-store-bench-'));
try {
  const subjects: Subject[] = [await storeSubject('this checkout', await loadOpener('.'), dir)];
  if (before !== undefined)
    subjects.push(await storeSubject(`before (${before})`, await loadOpener(before), dir));
  subjects.push(floorSubject(dir, 'f'.repeat(32)));
  const samples = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const subject of subjects) {
      for (const [op, run] of Object.entries(subject.ops)) {
        const startedAt = process.hrtime.bigint();
        for (let i = 0; i < ops; i++) await run(round * ops + i);
        const micros = Number(process.hrtime.bigint() - startedAt) / 1e3 / ops;
        const key = `${subject.name}\t${op}`;
        samples.set(key, [...(samples.get(key) ?? []), micros]);
      }
    }
  }
  const result: Record<string, Record<string, number>> = {};
  for (const [key, xs] of samples) {
    const [subject, op] = key.split('\t') as [string, string];
    (result[op] ??= {})[subject] = Math.round(median(xs) * 10) / 10;
  }
  for (const subject of subjects) await subject.close();
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/store.json', JSON.stringify({ rounds, ops, result }, null, 2));
  console.log(`µs per call, median of ${rounds} rounds of ${ops}`);
  console.table(result);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
