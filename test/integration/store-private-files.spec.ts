/**
 * Files with secrets (issue 8): the data directory and the SQLite files (which hold the API keys) are
 * private to the agent's user whatever existed before. Reproduced as an older bosun left them (a 0755
 * data dir, a 0644 database with its -wal and -shm), proven readable by an unprivileged user first, then
 * run through the real start-up path (loadConfiguration + openStore) and read again as `nobody`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfiguration } from '../../src/config/load-configuration.js';
import { silentLogger } from '../../src/shared/logger.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/ports.js';
import { makeTempDir, type TempDir } from '../support/store-temp.js';

const run = promisify(execFile);

/** Whether the unprivileged user `nobody` can read the file (or list the directory). */
async function nobodyCanRead(path: string): Promise<boolean> {
  const command = statSync(path).isDirectory() ? ['ls', path] : ['cat', path];
  try {
    await run('runuser', ['-u', 'nobody', '--', ...command]);
    return true;
  } catch {
    return false;
  }
}

describe('files with secrets are private (as an unprivileged user)', function () {
  this.timeout(30_000);
  let dir: TempDir;
  let store: Store | undefined;

  before(async function () {
    if (process.getuid?.() !== 0)
      throw new Error('this test runs as root: it switches to `nobody` with runuser');
    await run('runuser', ['--version']); // fails loudly when util-linux is missing
  });
  beforeEach(() => {
    dir = makeTempDir('bosun-test-private-');
    chmodSync(dir.path, 0o755); // the temp root must be traversable, or `nobody` fails for the wrong reason
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    dir.remove();
  });

  it('an old 0755 data dir and 0644 database, -wal and -shm become 0700/0600 at start-up', async () => {
    const dataDir = dir.file('data');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    const dbPath = join(dataDir, 'bosun.sqlite');
    // What an older bosun left: a database with a key in it, world-readable, with its WAL files.
    const old = await openStore({ path: dbPath, logger: silentLogger() });
    const key = await old.apiKeys.globalKey();
    await old.commits.set('app', 'c1'); // keeps a WAL around
    for (const f of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`])
      if (existsSync(f)) chmodSync(f, 0o644);
    const files = [dbPath, `${dbPath}-wal`, `${dbPath}-shm`].filter((f) => existsSync(f));
    assert.ok(files.length === 3, `expected the WAL files to exist: ${files.join(', ')}`);
    chmodSync(dataDir, 0o755);
    assert.equal(await nobodyCanRead(dbPath), true, 'the setup should be readable before the fix');
    assert.equal(await nobodyCanRead(dataDir), true);

    // Start-up, as main.ts does it, while the old connection still holds the WAL open.
    const { settings } = await loadConfiguration({
      env: { BOSUN_DATA_DIR: dataDir },
      cwd: dir.path,
      logger: silentLogger(),
    });
    store = await openStore({ path: settings.dbPath, logger: silentLogger() });
    assert.equal(await store.apiKeys.globalKey(), key);
    await old.close();

    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    assert.equal(await nobodyCanRead(dataDir), false);
    for (const f of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]) {
      if (!existsSync(f)) continue;
      assert.equal(statSync(f).mode & 0o777, 0o600, f);
      // Even with the directory opened up again, the files themselves refuse `nobody`.
      chmodSync(dataDir, 0o755);
      assert.equal(await nobodyCanRead(f), false, `${f} is readable by nobody`);
      chmodSync(dataDir, 0o700);
    }
  });

  it('a new database and the WAL files SQLite makes later are 0600 even under a permissive umask', async () => {
    const previous = process.umask(0o000);
    try {
      const dbPath = dir.file('fresh.sqlite');
      store = await openStore({ path: dbPath, logger: silentLogger() });
      await store.apiKeys.globalKey();
      for (const f of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`])
        assert.equal(statSync(f).mode & 0o777, 0o600, f);
      assert.equal(await nobodyCanRead(dbPath), false);
    } finally {
      process.umask(previous);
    }
  });
});
