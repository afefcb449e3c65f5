/**
 * Durability under SIGKILL: a child process writes targets and keys in a tight loop and is killed at a
 * random moment, 20 times on the same file. After every kill the file must pass integrity_check, have
 * a consistent migration state, and hold a whole target at least as new as the last one the child
 * acknowledged (a commit that returned must survive; a half-written target must never be seen).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../migrations/index.js';
import { silentLogger } from '../../src/shared/logger.js';
import { createKnex } from '../../src/store/connection.js';
import { migrationStatus } from '../../src/store/migrate.js';
import { openStore } from '../../src/store/open-store.js';
import { checksum, WRITER_ORIGIN } from '../support/store-sigkill-target.js';
import { makeTempDir, type TempDir } from '../support/store-temp.js';

const writerScript = join(
  dirname(fileURLToPath(import.meta.url)),
  '../support/store-sigkill-writer.ts',
);
const KILLS = 20;

interface RunResult {
  /** Highest sequence number the child reported as committed; 0 when none. */
  lastAcked: number;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Spawns the writer and SIGKILLs it `delayMs` after it prints `trigger` (a line it writes on its way:
 * 'opening' before migrations, 'ready' once open, or the first committed sequence number).
 */
function runAndKill(dbPath: string, trigger: string, delayMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writerScript, dbPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lastAcked = 0;
    let stderr = '';
    let armed = false;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (/^\d+$/.test(line)) lastAcked = Math.max(lastAcked, Number(line));
      if (!armed && (line === trigger || (trigger === 'commit' && /^\d+$/.test(line)))) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.on('error', reject);
    // 'close' (not 'exit') so every line already in the pipe has been read.
    child.on('close', (_code, signal) => resolve({ lastAcked, signal, stderr }));
  });
}

/** Mostly mid-write; every 5th run (and the first, on a fresh file) while opening and migrating. */
function killMoment(run: number): 'opening' | 'commit' {
  return run === 1 || run % 5 === 0 ? 'opening' : 'commit';
}

describe('store durability under SIGKILL', function () {
  this.timeout(120_000);
  let dir: TempDir;
  let dbPath: string;
  let lastAckedEver = 0;

  before(() => {
    dir = makeTempDir('bosun-test-sigkill-');
    dbPath = dir.file('bosun.sqlite');
  });
  after(() => dir.remove());

  for (let run = 1; run <= KILLS; run++) {
    it(`kill ${run}/${KILLS}: the file is intact and holds a whole, acknowledged target`, async () => {
      const when = killMoment(run);
      const delayMs = Math.floor(Math.random() * (when === 'opening' ? 300 : 400));
      const result = await runAndKill(dbPath, when, delayMs);
      assert.equal(result.signal, 'SIGKILL', `writer ended on its own:\n${result.stderr}`);
      lastAckedEver = Math.max(lastAckedEver, result.lastAcked);

      const integrity = new Database(dbPath);
      try {
        assert.equal(integrity.pragma('integrity_check', { simple: true }), 'ok');
      } finally {
        integrity.close();
      }

      // Killed before the first migration committed: nothing may be half-made.
      const knex = createKnex(dbPath, silentLogger());
      try {
        const status = await migrationStatus(knex, MIGRATIONS);
        assert.deepEqual(status.unknown, []);
        if (status.pending.length > 0) {
          assert.equal(lastAckedEver, 0, 'schema rolled back after targets were committed');
          assert.equal(await knex.schema.hasTable('target_device'), false);
        }
      } finally {
        await knex.destroy();
      }

      const store = await openStore({ path: dbPath, logger: silentLogger() });
      try {
        const target = await store.targets.load(WRITER_ORIGIN);
        if (target === undefined && lastAckedEver === 0) return; // killed before the first commit
        assert.ok(target, `acknowledged target ${lastAckedEver} is missing`);
        const seq = Number(target.config['SEQ']);
        assert.ok(
          seq >= lastAckedEver,
          `target ${seq} is older than acknowledged ${lastAckedEver}`,
        );
        assert.ok(
          seq <= lastAckedEver + 1,
          `target ${seq} is newer than anything written after ${lastAckedEver}`,
        );
        lastAckedEver = seq;
        assert.equal(target.name, `device-${seq}`);
        const apps = Object.values(target.apps);
        assert.equal(apps.length, Number(target.config['APPS']));
        for (const app of apps) {
          assert.equal(app['seq'], seq, 'an app from another target');
          const payload = app['payload'];
          assert.equal(typeof payload, 'string', 'an app document without its payload');
          assert.equal(app['checksum'], checksum(payload as string), 'a torn app document');
        }
        const globalKey = await store.apiKeys.globalKey();
        assert.deepEqual((await store.apiKeys.find(globalKey))?.scopes, [{ type: 'global' }]);
      } finally {
        await store.close();
      }
    });
  }

  it('every mid-write run committed at least one target before its kill', () => {
    // Guards against the checks above passing vacuously on a file that never got a target. Each
    // 'commit' run is killed only after an acknowledged commit, so there are at least that many.
    const midWriteRuns = Array.from({ length: KILLS }, (_, i) => i + 1).filter(
      (run) => killMoment(run) === 'commit',
    );
    assert.ok(
      lastAckedEver >= midWriteRuns.length,
      `only ${lastAckedEver} targets committed over ${KILLS} runs`,
    );
    console.log(`      (${lastAckedEver} targets committed across ${KILLS} kills)`);
  });
});
