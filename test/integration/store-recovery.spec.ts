/**
 * A corrupt database no longer stops the agent for good (issue 8). Real SQLite files: a store is used
 * and closed (start-up takes a known-good copy), then its file is really corrupted (pages overwritten
 * with garbage) or deleted; the start-up path (openStoreWithRecovery, as main.ts calls it) restores the
 * newest good copy with the device key, keeps the broken file aside, and says so at error level. With
 * no copy it starts fresh, loudly. Backups are 0600 and bounded in number.
 */
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/shared/logger.js';
import { backupDatabase, listBackups } from '../../src/store/backup.js';
import { openStoreWithRecovery } from '../../src/store/open-with-recovery.js';
import type { Store } from '../../src/store/ports.js';
import { makeTempDir, type TempDir } from '../support/store-temp.js';

function capturingLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return {
    logger: createLogger({ level: 'info', destination }),
    lines: () =>
      text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** Overwrites every page after the first with garbage, as a failing SD card would. */
function corrupt(path: string): void {
  const size = statSync(path).size;
  const fd = openSync(path, 'r+');
  try {
    const garbage = Buffer.alloc(size - 4096, 0xa5);
    writeSync(fd, garbage, 0, garbage.length, 4096);
  } finally {
    closeSync(fd);
  }
}

describe('corrupt database recovery at start-up (real files)', function () {
  this.timeout(30_000);
  let dir: TempDir;
  let dbPath: string;
  let store: Store | undefined;

  beforeEach(() => {
    dir = makeTempDir('bosun-test-recovery-');
    dbPath = dir.file('bosun.sqlite');
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    dir.remove();
  });

  async function firstRun(): Promise<string> {
    const s = await openStoreWithRecovery({ path: dbPath, logger: capturingLogger().logger });
    const key = await s.apiKeys.globalKey();
    await s.targets.save({ kind: 'local' }, { name: 'dev', config: {}, apps: {} });
    await s.close();
    // The next start's copy holds the key (a copy is taken after each successful open).
    const again = await openStoreWithRecovery({ path: dbPath, logger: capturingLogger().logger });
    await again.close();
    return key;
  }

  it('a corrupted database is restored from the newest good copy, loudly, with the device key', async () => {
    const key = await firstRun();
    for (let i = 0; i < 30; i++) {
      // Grow the file so the corruption hits real data pages.
      const s = await openStoreWithRecovery({ path: dbPath, logger: capturingLogger().logger });
      await s.commits.set(`app-${i}`, 'x'.repeat(2000));
      await s.close();
    }
    corrupt(dbPath);
    const { logger, lines } = capturingLogger();
    store = await openStoreWithRecovery({ path: dbPath, logger });
    assert.equal(await store.apiKeys.globalKey(), key, 'the device key must survive');
    assert.deepEqual((await store.targets.load({ kind: 'local' }))?.name, 'dev');
    const recovered = lines().find((l) => l['event'] === 'store.recovered-from-backup');
    assert.ok(recovered, JSON.stringify(lines()));
    assert.equal(recovered['level'], 'error');
    assert.match(String(recovered['message']), /^RECOVERED: .*integrity check/);
    const aside = String(recovered['brokenFileKeptAt']);
    assert.ok(existsSync(aside), 'the broken file is kept for a post-mortem');
  });

  it('a deleted database is restored from its copy instead of silently starting empty', async () => {
    const key = await firstRun();
    rmSync(dbPath);
    rmSync(`${dbPath}-wal`, { force: true });
    rmSync(`${dbPath}-shm`, { force: true });
    const { logger, lines } = capturingLogger();
    store = await openStoreWithRecovery({ path: dbPath, logger });
    assert.equal(await store.apiKeys.globalKey(), key);
    const recovered = lines().find((l) => l['event'] === 'store.recovered-from-backup');
    assert.match(String(recovered?.['problem']), /missing/);
  });

  it('with no usable copy it starts fresh and says, at error level, what was lost', async () => {
    await firstRun();
    for (const backup of await listBackups(dbPath)) corrupt(backup);
    corrupt(dbPath);
    const { logger, lines } = capturingLogger();
    store = await openStoreWithRecovery({ path: dbPath, logger });
    assert.match(await store.apiKeys.globalKey(), /^[0-9a-f]{32}$/);
    assert.equal(await store.targets.load({ kind: 'local' }), undefined);
    const fresh = lines().find((l) => l['event'] === 'store.recovered-fresh');
    assert.equal(fresh?.['level'], 'error');
    assert.match(String(fresh?.['message']), /FRESH DATABASE.*new device key/);
  });

  it('copies are 0600 and at most 3 are kept', async () => {
    await firstRun();
    for (let i = 0; i < 5; i++) await backupDatabase(dbPath, 3, Date.now() + 1000 + i);
    const backups = await listBackups(dbPath);
    assert.equal(backups.length, 3);
    for (const b of backups) assert.equal(statSync(b).mode & 0o777, 0o600, b);
  });
});
