/** Host update locks on a real file system, as a container would see them through its bind mount. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostUpdateLocks } from '../../src/device/locks.js';
import { isBosunError } from '../../src/shared/errors.js';
import { createLogger, silentLogger } from '../../src/shared/logger.js';
import { Writable } from 'node:stream';

describe('HostUpdateLocks (real files)', () => {
  let root: string;
  let locks: HostUpdateLocks;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'bosun-test-locks-'));
    locks = new HostUpdateLocks({ root, logger: silentLogger() });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const userLock = async (
    appId: number,
    service: string,
    file = 'updates.lock',
  ): Promise<string> => {
    const dir = await locks.prepare(appId, service);
    const path = join(dir, file);
    await writeFile(path, '');
    return path;
  };

  it('takes both lock files per service, recognisably the agent’s, and releases only its own', async () => {
    await locks.take(1, ['api', 'db'], { force: false });
    assert.deepEqual((await readdir(locks.serviceDir(1, 'api'))).sort(), [
      'resin-updates.lock',
      'updates.lock',
    ]);
    assert.deepEqual(await locks.list(), [
      { appId: 1, serviceName: 'api', heldBy: 'agent' },
      { appId: 1, serviceName: 'db', heldBy: 'agent' },
    ]);
    await locks.take(1, ['api'], { force: false }); // re-entrant: already ours
    await userLock(1, 'cache');
    await locks.release(1);
    assert.deepEqual(await locks.list(), [{ appId: 1, serviceName: 'cache', heldBy: 'user' }]);
  });

  it('the lock directory is writable by any container user (sticky 1777)', async () => {
    const dir = await locks.prepare(7, 'api');
    assert.equal((await stat(dir)).mode & 0o7777, 0o1777);
  });

  it('refuses with UPDATES_LOCKED naming app and service when a user holds a lock, and keeps nothing it took', async () => {
    await userLock(3, 'db', 'resin-updates.lock');
    await assert.rejects(
      () => locks.take(3, ['api', 'db'], { force: false }),
      (err: unknown) =>
        isBosunError(err, 'UPDATES_LOCKED') && /appId: 3, service: db/.test(err.message),
    );
    assert.deepEqual(
      await locks.list(),
      [{ appId: 3, serviceName: 'db', heldBy: 'user' }],
      'api was rolled back',
    );
  });

  it('force (or a stale override for that service) removes the user lock and takes it', async () => {
    await userLock(4, 'api');
    await locks.take(4, ['api'], { force: true });
    assert.deepEqual(await locks.list(), [{ appId: 4, serviceName: 'api', heldBy: 'agent' }]);
    await locks.release(4);
    await userLock(4, 'api');
    await userLock(4, 'db');
    await assert.rejects(
      () => locks.take(4, ['api', 'db'], { force: false, overrideServices: ['api'] }),
      /service: db/,
    );
    await locks.take(4, ['api'], { force: false, overrideServices: ['api'] });
    assert.deepEqual(await locks.list(), [
      { appId: 4, serviceName: 'api', heldBy: 'agent' },
      { appId: 4, serviceName: 'db', heldBy: 'user' },
    ]);
  });

  it('reports hand-over complete flags (both spellings) and clears them', async () => {
    const dir = await locks.prepare(5, 'web');
    await writeFile(join(dir, 'resin-kill-me'), '');
    await locks.prepare(5, 'api');
    assert.deepEqual(await locks.handoverComplete(), ['5/web']);
    await locks.clearHandover(5, 'web');
    assert.deepEqual(await locks.handoverComplete(), []);
  });

  it('concurrent takes of one app are serialised: both succeed and leave only the agent’s locks', async () => {
    const results = await Promise.allSettled([
      locks.take(6, ['a', 'b'], { force: false }),
      locks.take(6, ['a', 'b'], { force: false }),
    ]);
    assert.ok(results.every((r) => r.status === 'fulfilled'));
    assert.deepEqual(
      (await locks.list()).map((l) => l.heldBy),
      ['agent', 'agent'],
    );
  });

  it('an empty lock root lists nothing', async () => {
    const empty = new HostUpdateLocks({ root: join(root, 'missing'), logger: silentLogger() });
    assert.deepEqual(await empty.list(), []);
    assert.deepEqual(await empty.handoverComplete(), []);
  });

  describe('hostile entries (the directory is writable from inside the container)', () => {
    /** `make` may return a clean-up (the socket's server must stay open: closing it unlinks the file). */
    const oddKinds: Array<{
      kind: string;
      make: (path: string) => Promise<void | (() => Promise<void>)>;
    }> = [
      { kind: 'symlink', make: (path) => symlink('/dev/zero', path) },
      { kind: 'fifo', make: (path) => Promise.resolve(void execFileSync('mkfifo', [path])) },
      { kind: 'directory', make: (path) => mkdir(path) },
      {
        kind: 'socket',
        make: (path) =>
          new Promise((resolve, reject) => {
            const server: Server = createServer();
            server.on('error', reject);
            server.listen(path, () =>
              resolve(() => new Promise<void>((done) => server.close(() => done()))),
            );
          }),
      },
    ];

    for (const { kind, make } of oddKinds) {
      it(`a ${kind} at updates.lock counts as a user lock, without blocking or reading it, and is logged once`, async () => {
        const lines: string[] = [];
        const logged = new HostUpdateLocks({
          root,
          logger: createLogger({
            level: 'info',
            destination: new Writable({
              write: (chunk: Buffer, _enc, done) => {
                lines.push(chunk.toString());
                done();
              },
            }),
          }),
        });
        const dir = await logged.prepare(8, 'odd');
        const cleanUp = await make(join(dir, 'updates.lock'));
        try {
          await logged.prepare(8, 'plain');
          const before = process.memoryUsage().rss;
          for (let i = 0; i < 3; i++)
            assert.deepEqual(await logged.list(), [
              { appId: 8, serviceName: 'odd', heldBy: 'user' },
            ]);
          assert.ok(
            process.memoryUsage().rss - before < 64 * 1024 * 1024,
            'nothing read into memory',
          );
          const odd = lines.filter((l) => l.includes('lock.odd-lock-file'));
          assert.equal(odd.length, 1, `one log line over three observations: ${lines.join('')}`);
          assert.match(odd[0]!, new RegExp(`"kind":"${kind}"`));
          assert.match(odd[0]!, /services\/8\/odd\/updates\.lock/);
          await assert.rejects(
            () => logged.take(8, ['odd'], { force: false }),
            (err: unknown) => isBosunError(err, 'UPDATES_LOCKED'),
          );
        } finally {
          if (cleanUp) await cleanUp();
        }
      });
    }

    it('forcing removes a symlink, FIFO or directory lock without following links inside it', async () => {
      const outside = await mkdtemp(join(tmpdir(), 'bosun-test-locks-outside-'));
      try {
        const precious = join(outside, 'precious');
        await writeFile(precious, 'keep me');
        const dir = await locks.prepare(9, 'a');
        await symlink(precious, join(dir, 'updates.lock'));
        execFileSync('mkfifo', [join(dir, 'resin-updates.lock')]);
        const dirB = await locks.prepare(9, 'b');
        await mkdir(join(dirB, 'updates.lock'));
        await symlink(outside, join(dirB, 'updates.lock', 'link-to-outside'));
        await locks.take(9, ['a', 'b'], { force: true });
        assert.deepEqual(await locks.list(), [
          { appId: 9, serviceName: 'a', heldBy: 'agent' },
          { appId: 9, serviceName: 'b', heldBy: 'agent' },
        ]);
        assert.equal(await readFile(precious, 'utf8'), 'keep me', 'the link target is untouched');
        assert.deepEqual(await readdir(outside), ['precious']);
        await locks.release(9);
        assert.deepEqual(await locks.list(), []);
      } finally {
        await rm(outside, { recursive: true, force: true });
      }
    });

    it('a hand-over flag that is a directory or a dangling link still counts, and clearing removes it', async () => {
      const dir = await locks.prepare(10, 'web');
      await mkdir(join(dir, 'handover-complete'));
      await symlink('/nonexistent', join(dir, 'resin-kill-me'));
      assert.deepEqual(await locks.handoverComplete(), ['10/web']);
      await locks.clearHandover(10, 'web');
      assert.deepEqual(await readdir(dir), []);
    });
  });
});
