/**
 * The durable log spool on a real SQLite file: batching, bounds (per service and overall, oldest first,
 * drops counted and announced), the batch in flight left alone, read-back, and a SIGKILL mid-write.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogSpool, SYSTEM_SERVICE } from '../../src/logs/log-spool.js';
import type { LogMessage } from '../../src/logs/log-message.js';
import { silentLogger } from '../../src/shared/logger.js';

const KIB = 1024;

function line(service: string, n: number, extra = ''): LogMessage {
  return {
    message: `${service} ${n}${extra}`,
    timestamp: 1_700_000_000_000 + n,
    serviceId: service === 'a' ? 1 : 2,
    serviceName: service,
  };
}

function open(
  dir: string,
  limits = { maxBytes: 1024 * KIB, maxServiceBytes: 1024 * KIB },
  onDropped?: (lines: number) => void,
  survivesPowerCut = true,
) {
  return new LogSpool({
    dir,
    limits,
    survivesPowerCut,
    logger: silentLogger(),
    now: Date.now,
    ...(onDropped === undefined ? {} : { onDropped }),
  });
}

function numbersOf(spool: LogSpool, service: string): number[] {
  return spool
    .readAfter(0, 1_000_000, Number.MAX_SAFE_INTEGER)
    .filter((r) => r.service === service)
    .map((r) => Number((JSON.parse(r.wire) as LogMessage).message.split(' ')[1]));
}

function dropNotices(spool: LogSpool, service: string): number {
  let total = 0;
  for (const r of spool.readAfter(0, 1_000_000, Number.MAX_SAFE_INTEGER)) {
    if (r.service !== SYSTEM_SERVICE) continue;
    const m = /^Warning: Dropped (\d+) line\(s\) of service '(.+)' because/.exec(
      (JSON.parse(r.wire) as LogMessage).message,
    );
    if (m && m[2] === service) total += Number(m[1]);
  }
  return total;
}

describe('log spool (SQLite file)', function () {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bosun-spool-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('commits a burst of lines in one write and keeps them, in order, across a reopen', async () => {
    const spool = open(dir);
    for (let n = 1; n <= 5000; n++) spool.publish(line('a', n));
    assert.equal(spool.lastId, 0, 'nothing is written per line');
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(spool.usage().commits, 1);
    spool.close();
    const again = open(dir);
    assert.deepEqual(
      numbersOf(again, 'a'),
      Array.from({ length: 5000 }, (_, i) => i + 1),
    );
    again.close();
  });

  it('commits with a system line at once, the container lines before it too, as a SIGKILL right after would find them', () => {
    const spool = open(dir);
    for (let n = 1; n <= 3; n++) spool.publish(line('a', n));
    assert.equal(spool.lastId, 0, 'container lines wait for the batch');
    spool.publish({
      message: 'Release abc failed its confirmation window',
      timestamp: 1,
      isSystem: true,
    });
    assert.equal(spool.lastId, 4, 'the system line and the three before it are committed');
    // Another connection, as the next start after a SIGKILL (the first one is never closed here).
    const next = open(dir);
    assert.deepEqual(numbersOf(next, 'a'), [1, 2, 3]);
    assert.ok(
      next
        .readAfter(0, 10, Number.MAX_SAFE_INTEGER)
        .some((r) => r.service === SYSTEM_SERVICE && r.wire.includes('confirmation window')),
    );
    next.close();
    spool.close();
  });

  it('drops the oldest lines of a service over its bound, counts them and says so in the stream; other services keep theirs', () => {
    let reported = 0; // what the metrics hook is told
    const spool = open(dir, { maxBytes: 1024 * KIB, maxServiceBytes: 64 * KIB }, (lines) => {
      reported += lines;
    });
    for (let n = 1; n <= 10; n++) spool.publish(line('b', n));
    for (let n = 1; n <= 3000; n++) {
      spool.publish(line('a', n));
      if (n % 100 === 0) spool.commit();
    }
    spool.commit();
    const kept = numbersOf(spool, 'a');
    assert.ok(kept.length > 0 && kept.length < 3000);
    // Oldest first: what is left is the tail, without gaps.
    assert.deepEqual(
      kept,
      Array.from({ length: kept.length }, (_, i) => 3000 - kept.length + 1 + i),
    );
    assert.equal(dropNotices(spool, 'a'), 3000 - kept.length);
    assert.equal(spool.dropCounts().get('a'), 3000 - kept.length);
    assert.equal(
      reported,
      3000 - kept.length,
      'the drop hook (metrics) is told each dropped line once',
    );
    assert.deepEqual(numbersOf(spool, 'b'), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.ok((spool.usage().services['a'] ?? 0) <= 64 * KIB);
    spool.close();
  });

  it('bounds the whole spool, evicting acknowledged lines silently before unshipped ones, never the batch in flight', async () => {
    const spool = open(dir, { maxBytes: 128 * KIB, maxServiceBytes: 128 * KIB });
    for (let n = 1; n <= 500; n++) spool.publish(line('a', n));
    spool.commit();
    await spool.acknowledge(300); // ids 1..300 delivered
    spool.markInFlight(400); // 301..400 sent, not yet acknowledged
    for (let n = 501; n <= 2500; n++) {
      spool.publish(line('b', n));
      if (n % 100 === 0) spool.commit();
    }
    spool.commit();
    const a = numbersOf(spool, 'a');
    for (let n = 301; n <= 400; n++) assert.ok(a.includes(n), `in-flight line ${n} kept`);
    assert.ok(!a.includes(1), 'acknowledged lines go first');
    const unshippedLost = 100 - a.filter((n) => n > 400).length;
    assert.equal(dropNotices(spool, 'a'), unshippedLost, 'acknowledged lines are not counted');
    const b = numbersOf(spool, 'b');
    assert.equal(dropNotices(spool, 'b'), 2000 - b.length);
    assert.ok(
      spool.usage().totalBytes <= 128 * KIB + 100 * 200,
      'over by at most the batch in flight',
    );
    spool.close();
  });

  it('reads back recent lines of one service or of the system, within a time window', () => {
    const spool = open(dir);
    for (let n = 1; n <= 100; n++) spool.publish(line('a', n));
    spool.publish({ message: 'Supervisor starting', timestamp: 1_700_000_000_050, isSystem: true });
    spool.commit();
    const window = spool.recent({
      service: 'a',
      since: 1_700_000_000_010,
      until: 1_700_000_000_019,
      limit: 100,
    });
    assert.deepEqual(
      window.map((r) => (JSON.parse(r.wire) as LogMessage).message),
      Array.from({ length: 10 }, (_, i) => `a ${10 + i}`),
    );
    const newest = spool.recent({ service: 'a', limit: 3 });
    assert.deepEqual(
      newest.map((r) => (JSON.parse(r.wire) as LogMessage).message),
      ['a 98', 'a 99', 'a 100'],
    );
    const system = spool.recent({ service: SYSTEM_SERVICE, limit: 10 });
    assert.deepEqual(
      system.map((r) => JSON.parse(r.wire) as unknown),
      [{ message: 'Supervisor starting', timestamp: 1_700_000_000_050, isSystem: true }],
    );
    spool.close();
  });

  it('keeps odd bytes as they came: invalid UTF-8 replacement, NUL and control bytes, a cut 1 MB line', () => {
    const spool = open(dir);
    const odd = 'bad \uFFFD\uFFFD utf8 \u0000\u0001\u001b[31m \ud800 lone surrogate';
    spool.publish({ ...line('a', 1), message: odd });
    spool.publish({ ...line('a', 2), message: 'x'.repeat(1024 * 1024) });
    spool.commit();
    const rows = spool
      .readAfter(0, 10, Number.MAX_SAFE_INTEGER)
      .map((r) => JSON.parse(r.wire) as LogMessage);
    assert.equal(rows[0]?.message.slice(0, 30), odd.slice(0, 30));
    assert.equal(rows[1]?.message.length, 10_000);
    assert.ok(rows[1]?.message.endsWith('[...]'));
    spool.close();
  });

  it('sets aside a spool file that is not a database and starts empty', async () => {
    await writeFile(join(dir, 'log-spool.sqlite'), 'this is not sqlite '.repeat(100));
    const spool = open(dir);
    spool.publish(line('a', 1));
    spool.commit();
    assert.deepEqual(numbersOf(spool, 'a'), [1]);
    spool.close();
  });

  for (const [journal, survivesPowerCut] of [
    ['WAL (persistent logging)', true],
    ['rollback journal (tmpfs)', false],
  ] as const)
    it(`survives SIGKILL while writing and evicting, ${journal}: every committed line is there, the file opens clean`, async function () {
      this.timeout(60_000);
      let committed = 0;
      for (let round = 0; round < 3; round++) {
        const child = spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            'test/support/log-spool-sigkill-writer.ts',
            dir,
            survivesPowerCut ? 'wal' : 'rollback',
          ],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        let out = '';
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (chunk: Buffer) => {
            out += chunk.toString();
            const commits = out.match(/committed \d+/g) ?? [];
            if (commits.length >= 20 + round * 7) resolve();
          });
          child.once('exit', (code) =>
            reject(new Error(`writer exited early (${code}): ${out.slice(-500)}`)),
          );
        });
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
        const last = [...out.matchAll(/committed (\d+)/g)].map((m) => Number(m[1])).pop() ?? 0;
        assert.ok(last > committed, 'the writer made progress');
        committed = last;
        const spool = open(
          dir,
          { maxBytes: 256 * KIB, maxServiceBytes: 160 * KIB },
          undefined,
          survivesPowerCut,
        );
        assert.ok(
          spool.lastId >= committed,
          `committed line ${committed} survived (last ${spool.lastId})`,
        );
        // Per service, what survived is a run without gaps apart from announced drops.
        for (const service of ['odd', 'even']) {
          const kept = numbersOf(spool, service);
          for (let i = 1; i < kept.length; i++)
            assert.equal(
              (kept[i] as number) - (kept[i - 1] as number),
              2,
              `${service} has no hole`,
            );
        }
        assert.ok(spool.usage().totalBytes <= 256 * KIB + 64 * KIB);
        spool.close();
      }
    });
});
