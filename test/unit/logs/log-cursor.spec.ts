import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LogCursor, type LogCursorState } from '../../../src/logs/log-cursor.js';
import {
  formatEngineTimestamp,
  parseEngineTimestamp,
} from '../../../src/shared/engine-timestamp.js';

interface Line {
  nanos: bigint;
  stream: 'stdout' | 'stderr';
  text: string;
}

const BASE = parseEngineTimestamp('2024-05-01T10:00:00Z');

/** What the engine returns for `since`: lines in file order whose timestamp is at or after it. */
function engineReplay(file: readonly Line[], since: string | undefined): Line[] {
  if (since === undefined) return [...file];
  const from = parseEngineTimestamp(since);
  return file.filter((l) => l.nanos >= from);
}

/** Reads `file` in sessions: each session resumes from the saved cursor state and stops after `take` new lines. */
function readInSessions(
  file: readonly Line[],
  takes: number[],
  limits?: ConstructorParameters<typeof LogCursor>[1],
): string[] {
  const published: string[] = [];
  let state: LogCursorState | undefined;
  let available = 0;
  for (const take of [...takes, file.length]) {
    available = Math.min(file.length, available + take);
    const cursor = new LogCursor(state, limits);
    for (const line of engineReplay(file.slice(0, available), cursor.since)) {
      if (cursor.admit(formatEngineTimestamp(line.nanos), line.stream)) published.push(line.text);
    }
    state = cursor.toState();
  }
  return published;
}

describe('LogCursor', () => {
  it('resumes after the last line without repeating lines that share its timestamp', () => {
    const file: Line[] = [
      { nanos: BASE, stream: 'stdout', text: 'a' },
      { nanos: BASE + 5n, stream: 'stdout', text: 'b' },
      { nanos: BASE + 5n, stream: 'stderr', text: 'c' },
      { nanos: BASE + 9n, stream: 'stdout', text: 'd' },
    ];
    assert.deepEqual(readInSessions(file, [2, 1]), ['a', 'b', 'c', 'd']);
  });

  it('publishes a stderr line stamped just before the stdout line the engine wrote ahead of it', () => {
    const file: Line[] = [
      { nanos: BASE + 10n, stream: 'stdout', text: 'out' },
      { nanos: BASE + 3n, stream: 'stderr', text: 'err, stamped earlier' },
      { nanos: BASE + 20n, stream: 'stdout', text: 'later' },
    ];
    // Session 1 sees only `out`; session 2 resumes and must still get the earlier-stamped stderr line.
    assert.deepEqual(readInSessions(file, [1]), ['out', 'err, stamped earlier', 'later']);
  });

  it('stays bounded for a chatty container and still neither repeats nor skips in-order lines', () => {
    const file: Line[] = Array.from({ length: 500 }, (_, i) => ({
      nanos: BASE + BigInt(i),
      stream: 'stdout' as const,
      text: `l${i}`,
    }));
    const cursor = new LogCursor(undefined, { windowNanos: 1_000_000_000n, maxSeen: 50 });
    for (const l of file) cursor.admit(formatEngineTimestamp(l.nanos), l.stream);
    assert.ok(cursor.toState()!.seen.length <= 50);
    assert.deepEqual(
      readInSessions(file, [123, 7, 300], { windowNanos: 1_000_000_000n, maxSeen: 50 }),
      file.map((l) => l.text),
    );
  });

  it('property: any split into sessions publishes every line exactly once (skew inside the window)', () => {
    const lineArb = fc.record({
      gap: fc.integer({ min: 0, max: 3 }),
      skew: fc.integer({ min: -2, max: 0 }),
      err: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(lineArb, { maxLength: 60 }),
        fc.array(fc.integer({ min: 0, max: 10 }), { maxLength: 8 }),
        (specs, takes) => {
          let clock = BASE;
          const used = new Set<string>();
          const file: Line[] = [];
          specs.forEach((s, i) => {
            clock += BigInt(s.gap);
            const stream = s.err ? 'stderr' : 'stdout';
            const nanos = clock + BigInt(s.skew);
            // The engine never stamps two lines of one stream with the same nanosecond.
            if (used.has(`${nanos}${stream}`)) return;
            used.add(`${nanos}${stream}`);
            file.push({ nanos, stream, text: `#${i}` });
          });
          assert.deepEqual(
            readInSessions(file, takes),
            file.map((l) => l.text),
          );
        },
      ),
    );
  });
});
