/**
 * Node's compiled-code cache (src/config/compile-cache.ts): where it goes, what each answer of Node's
 * module.enableCompileCache means, and that keeping it bounded touches only what Node made, on real
 * files. The runtime is injected where Node's own would switch on caching for the test process itself;
 * it answers as Node's documented API does (status constants FAILED 0, ENABLED 1, ALREADY_ENABLED 2,
 * DISABLED 3). test/e2e/start-up.spec.ts runs the agent with a broken and an unusable cache.
 */
import assert from 'node:assert/strict';
import * as nodeModule from 'node:module';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compileCacheDirectory,
  enableCompileCache,
  settleCompileCache,
  type CompileCacheRuntime,
} from '../../src/config/compile-cache.js';
import { silentLogger, type Logger } from '../../src/shared/logger.js';

const STATUS = { FAILED: 0, ENABLED: 1, ALREADY_ENABLED: 2, DISABLED: 3 };

function runtime(
  answer: (dir: string | undefined) => { status: number; message?: string; directory?: string },
): CompileCacheRuntime & { asked: (string | undefined)[]; flushed: number } {
  const r = {
    asked: [] as (string | undefined)[],
    flushed: 0,
    constants: { compileCacheStatus: STATUS },
    enableCompileCache: (dir?: string) => {
      r.asked.push(dir);
      return answer(dir);
    },
    flushCompileCache: () => {
      r.flushed += 1;
    },
  };
  return r;
}

function recordingLogger(): Logger & { events: string[] } {
  const events: string[] = [];
  const logger: Logger & { events: string[] } = {
    events,
    error: (e) => void events.push(e),
    warn: (e) => void events.push(e),
    info: (e) => void events.push(e),
    debug: (e) => void events.push(e),
    child: () => logger,
  };
  return logger;
}

describe('compile cache', function () {
  const cwd = mkdtempSync(join(tmpdir(), 'bosun-cc-'));

  it('lives under the data dir unless BOSUN_COMPILE_CACHE names a directory or says off', function () {
    assert.equal(compileCacheDirectory({ BOSUN_DATA_DIR: '/data' }, cwd), '/data/compile-cache');
    assert.equal(compileCacheDirectory({}, cwd), join(cwd, '.data', 'compile-cache'));
    assert.equal(
      compileCacheDirectory({ BOSUN_COMPILE_CACHE: '/var/cache/b' }, cwd),
      '/var/cache/b',
    );
    assert.equal(compileCacheDirectory({ BOSUN_COMPILE_CACHE: 'cc' }, cwd), join(cwd, 'cc'));
    assert.equal(compileCacheDirectory({ BOSUN_COMPILE_CACHE: 'off' }, cwd), undefined);
  });

  it('says what Node answered, and never throws', function () {
    const dir = join(cwd, 'a');
    const on = runtime((d) => ({ status: STATUS.ENABLED, directory: d }));
    assert.deepEqual(enableCompileCache({ BOSUN_COMPILE_CACHE: dir }, cwd, on), {
      state: 'enabled',
      directory: dir,
    });
    const failed = runtime(() => ({ status: STATUS.FAILED, message: 'not a directory' }));
    assert.deepEqual(enableCompileCache({ BOSUN_COMPILE_CACHE: dir }, cwd, failed), {
      state: 'failed',
      message: 'not a directory',
    });
    const already = runtime(() => ({ status: STATUS.ALREADY_ENABLED, directory: '/elsewhere' }));
    assert.equal(enableCompileCache({}, cwd, already).state, 'already-enabled');
    const disabled = runtime(() => ({ status: STATUS.DISABLED }));
    assert.equal(enableCompileCache({}, cwd, disabled).state, 'off');
    const throwing = runtime(() => {
      throw new Error('boom');
    });
    assert.deepEqual(enableCompileCache({}, cwd, throwing), { state: 'failed', message: 'boom' });
  });

  it('asks nothing of Node when switched off or when the data dir setting is bad', function () {
    const r = runtime(() => ({ status: STATUS.ENABLED }));
    assert.equal(enableCompileCache({ BOSUN_COMPILE_CACHE: 'off' }, cwd, r).state, 'off');
    assert.equal(enableCompileCache({ BOSUN_DATA_DIR: ' /data' }, cwd, r).state, 'off');
    assert.deepEqual(r.asked, []);
  });

  it('is unsupported on a Node line without the API (Node 20), and matches this line', function () {
    assert.deepEqual(enableCompileCache({}, cwd, {}), { state: 'unsupported' });
    const thisLine = typeof (nodeModule as CompileCacheRuntime).enableCompileCache === 'function';
    const major = Number(process.versions.node.split('.')[0]);
    assert.equal(
      thisLine,
      major >= 23 || (major === 22 && Number(process.versions.node.split('.')[1]) >= 1),
    );
  });

  it("once up: removes other Node versions' entries, keeps what Node did not make, then writes this start's", async function () {
    const root = mkdtempSync(join(tmpdir(), 'bosun-cc-root-'));
    const own = join(root, `v26.12.1-${process.arch}-310b2ce3-0`);
    const old = join(root, `v24.22.3-${process.arch}-310b2ce3-0`);
    mkdirSync(own);
    mkdirSync(old);
    writeFileSync(join(own, 'aa11'), Buffer.alloc(1000));
    writeFileSync(join(old, 'bb22'), Buffer.alloc(1000));
    mkdirSync(join(root, 'user-stuff'));
    writeFileSync(join(root, 'notes.txt'), 'mine');
    const r = runtime(() => ({ status: STATUS.ENABLED }));
    await settleCompileCache(
      { state: 'enabled', directory: root },
      silentLogger(),
      r,
      1_000_000,
      '26.12.1',
    );
    assert.deepEqual(readdirSync(root).sort(), [
      'notes.txt',
      'user-stuff',
      `v26.12.1-${process.arch}-310b2ce3-0`,
    ]);
    assert.deepEqual(readdirSync(own), ['aa11'], 'within the bound: kept');
    assert.equal(r.flushed, 1);
  });

  it('empties its entries once they outgrow the bound', async function () {
    const root = mkdtempSync(join(tmpdir(), 'bosun-cc-root-'));
    const own = join(root, `v26.12.1-${process.arch}-310b2ce3-0`);
    mkdirSync(own);
    for (const name of ['e1', 'e2', 'e3']) writeFileSync(join(own, name), Buffer.alloc(600));
    const r = runtime(() => ({ status: STATUS.ENABLED }));
    const logger = recordingLogger();
    await settleCompileCache({ state: 'enabled', directory: root }, logger, r, 1500, '26.12.1');
    assert.deepEqual(readdirSync(own), [], 'emptied, the directory kept for this start');
    assert.deepEqual(readdirSync(root), [`v26.12.1-${process.arch}-310b2ce3-0`]);
    assert.equal(r.flushed, 1, "this start's entries written after");
    assert.ok(logger.events.includes('compile-cache.emptied'));
  });

  it('touches nothing it does not own, and says when the cache is unusable', async function () {
    const foreign = mkdtempSync(join(tmpdir(), 'bosun-cc-foreign-'));
    writeFileSync(join(foreign, 'x'), Buffer.alloc(10_000));
    const r = runtime(() => ({ status: STATUS.ENABLED }));
    await settleCompileCache(
      { state: 'already-enabled', directory: foreign },
      silentLogger(),
      r,
      10,
    );
    assert.ok(existsSync(join(foreign, 'x')));
    assert.equal(r.flushed, 0);
    const logger = recordingLogger();
    await settleCompileCache({ state: 'failed', message: 'not a directory' }, logger, r);
    assert.deepEqual(logger.events, ['compile-cache.unusable']);
    // A directory that vanished under it: a warning, not a throw.
    const gone = recordingLogger();
    await settleCompileCache({ state: 'enabled', directory: join(foreign, 'no') }, gone, r);
    assert.deepEqual(gone.events, ['compile-cache.unusable']);
  });
});
