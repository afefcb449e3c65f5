import assert from 'node:assert/strict';
import { MemoryLogCursorStore, type LiveCursor } from '../../../src/logs/log-cursor-store.js';
import type { LogCursorState } from '../../../src/logs/log-cursor.js';
import { LogCursor } from '../../../src/logs/log-cursor.js';
import type { CursorChanges } from '../../../src/logs/log-spool.js';
import { encodeState, parseState, SpoolCursorStore } from '../../../src/logs/spool-cursor-store.js';
import { silentLogger } from '../../../src/shared/logger.js';

describe('spool cursor store: compact cursor rows, written only when they change', () => {
  it('round-trips a cursor through the compact form, which is about a third of the JSON', () => {
    const cursor = new LogCursor(undefined);
    let nanos = 1_732_900_000_000_000_000n;
    for (let i = 0; i < 3000; i++) {
      nanos += 37_000n + BigInt(i % 7);
      const stamp = new Date(Number(nanos / 1_000_000n))
        .toISOString()
        .replace(/\.\d+Z$/, `.${(nanos % 1_000_000_000n).toString().padStart(9, '0')}Z`);
      cursor.admit(stamp, i % 5 === 0 ? 'stderr' : 'stdout');
    }
    const state = cursor.toState()!;
    const text = encodeState(state);
    assert.deepEqual(parseState(text), state);
    assert.ok(text.length * 2.5 < JSON.stringify(state).length, `${text.length} bytes`);
    // Resuming from the decoded state admits exactly the same lines as the original cursor.
    assert.equal(new LogCursor(parseState(text)).since, cursor.since);
  });

  it('still reads cursors stored as JSON, and refuses garbage', () => {
    const state = { floor: '1000', seen: ['1000:o', '1005:e'] };
    assert.deepEqual(parseState(JSON.stringify(state)), state);
    assert.deepEqual(parseState('1000 0o,5e'), state);
    assert.deepEqual(parseState('1000 '), { floor: '1000', seen: [] });
    assert.equal(parseState('1000 0x'), undefined);
    assert.equal(parseState('{"floor":"x","seen":[]}'), undefined);
  });

  it('hands the spool a container cursor only when it changed since it was last stored', () => {
    let source: (() => CursorChanges) | undefined;
    const store = new SpoolCursorStore(
      {
        loadCursors: () => new Map([['idle', '1000 0o']]),
        setCursorSource: (s) => (source = s),
      },
      new MemoryLogCursorStore(),
      silentLogger(),
    );
    let busy: LogCursorState = { floor: '2000', seen: ['2000:o'] };
    const live = (get: () => LogCursorState): LiveCursor => ({ toState: get });
    store.track(
      'idle',
      live(() => ({ floor: '1000', seen: ['1000:o'] })),
    );
    store.track(
      'busy',
      live(() => busy),
    );
    assert.deepEqual(source!().upserts, [['busy', '2000 0o']], 'the idle one is already stored');
    assert.deepEqual(source!().upserts, [], 'nothing changed');
    busy = { floor: '2000', seen: ['2000:o', '2010:e'] };
    assert.deepEqual(source!().upserts, [['busy', '2000 0o,ae']]);
    store.delete('busy');
    assert.deepEqual(source!().deletes, ['busy']);
  });
});
