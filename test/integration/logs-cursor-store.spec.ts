/** FileLogCursorStore on real files: survives a reopen, writes atomically, and a corrupt file is kept aside. */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { FileLogCursorStore } from '../../src/logs/log-cursor-store.js';
import { createLogger, silentLogger } from '../../src/shared/logger.js';

describe('FileLogCursorStore (real files)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bosun-cursors-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps cursors across a reopen and forgets deleted ones', async () => {
    const path = join(dir, 'sub', 'cursors.json');
    const store = await FileLogCursorStore.open(path, {
      logger: silentLogger(),
      debounceMs: 10_000,
    });
    store.set('c1', { floor: '100', seen: ['100:o', '105:e'] });
    store.set('c2', { floor: '7', seen: [] });
    store.delete('c2');
    await store.flush(); // long debounce: only flush can have written it
    const reopened = await FileLogCursorStore.open(path, { logger: silentLogger() });
    assert.deepEqual(reopened.containerIds(), ['c1']);
    assert.deepEqual(reopened.get('c1'), { floor: '100', seen: ['100:o', '105:e'] });
    assert.deepEqual(await readdir(join(dir, 'sub')), ['cursors.json'], 'no temp file left behind');
  });

  it('moves a corrupt file aside with an error naming it, and starts without cursors', async () => {
    const path = join(dir, 'cursors.json');
    await writeFile(path, '{"c1": {"floor": "12", "seen": ["oops"]}}');
    let logged = '';
    const logger = createLogger({
      level: 'error',
      destination: new Writable({
        write: (chunk: Buffer, _enc, done) => {
          logged += chunk.toString();
          done();
        },
      }),
    });
    const store = await FileLogCursorStore.open(path, { logger });
    assert.deepEqual(store.containerIds(), []);
    const files = await readdir(dir);
    const aside = files.find((f) => f.startsWith('cursors.json.corrupt-'));
    assert.ok(aside, `corrupt file kept: ${files.join(', ')}`);
    assert.equal(
      await readFile(join(dir, aside), 'utf8'),
      '{"c1": {"floor": "12", "seen": ["oops"]}}',
    );
    await new Promise((r) => setTimeout(r, 50)); // pino writes asynchronously
    assert.match(logged, /logs\.cursors-corrupt/);
    assert.match(logged, /entry c1 is not \{floor, seen\}/);
  });
});
