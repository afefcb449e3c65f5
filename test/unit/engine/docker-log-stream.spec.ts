import assert from 'node:assert/strict';
import { parseDockerLogStream } from '../../../src/engine/docker-log-stream.js';
import type { ContainerLogLine } from '../../../src/engine/port.js';
import { parseEngineTimestamp, toEngineSince } from '../../../src/shared/engine-timestamp.js';

function frame(kind: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = kind;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

async function collect(chunks: Buffer[], multiplexed: boolean): Promise<ContainerLogLine[]> {
  const out: ContainerLogLine[] = [];
  for await (const line of parseDockerLogStream(chunks, multiplexed)) out.push(line);
  return out;
}

describe('parseDockerLogStream', () => {
  it('demultiplexes frames into stdout and stderr lines with their timestamps', async () => {
    const lines = await collect(
      [
        frame(1, '2024-05-01T10:00:00.000000001Z hello\n'),
        frame(2, '2024-05-01T10:00:00.000000002Z oops\n'),
      ],
      true,
    );
    assert.deepEqual(lines, [
      { stream: 'stdout', timestamp: '2024-05-01T10:00:00.000000001Z', line: 'hello' },
      { stream: 'stderr', timestamp: '2024-05-01T10:00:00.000000002Z', line: 'oops' },
    ]);
  });

  it('reassembles frames split at every byte, including inside a multi-byte character', async () => {
    const whole = Buffer.concat([
      frame(1, '2024-05-01T10:00:00.5Z grüße ✓\n'),
      frame(1, '2024-05-01T10:00:01Z \n'),
    ]);
    const bytes = [...whole].map((b) => Buffer.from([b]));
    assert.deepEqual(await collect(bytes, true), [
      { stream: 'stdout', timestamp: '2024-05-01T10:00:00.5Z', line: 'grüße ✓' },
      { stream: 'stdout', timestamp: '2024-05-01T10:00:01Z', line: '' },
    ]);
  });

  it('keeps the pieces of a message the engine split (no newline) as separate lines', async () => {
    const lines = await collect(
      [frame(1, '2024-05-01T10:00:00Z aaaa'), frame(1, '2024-05-01T10:00:00.1Z bbbb\n')],
      true,
    );
    assert.deepEqual(
      lines.map((l) => l.line),
      ['aaaa', 'bbbb'],
    );
  });

  it('splits TTY output on newlines and drops the carriage returns a TTY adds', async () => {
    const text = '2024-05-01T10:00:00Z one\r\n2024-05-01T10:00:01Z two\r\n2024-05-01T10:00:02Z thr';
    const lines = await collect(
      [Buffer.from(text.slice(0, 30)), Buffer.from(text.slice(30)), Buffer.from('ee\r\n')],
      false,
    );
    assert.deepEqual(
      lines.map((l) => [l.stream, l.line]),
      [
        ['stdout', 'one'],
        ['stdout', 'two'],
        ['stdout', 'three'],
      ],
    );
  });
});

describe('engine timestamps', () => {
  it('orders timestamps that share a millisecond by their nanoseconds', () => {
    const a = parseEngineTimestamp('2024-05-01T10:00:00.123456788Z');
    const b = parseEngineTimestamp('2024-05-01T10:00:00.123456789Z');
    assert.ok(a < b);
    assert.equal(b - a, 1n);
  });

  it('reads offsets and short fractions, and writes the engine since form', () => {
    assert.equal(
      parseEngineTimestamp('2024-05-01T12:00:00.5+02:00'),
      parseEngineTimestamp('2024-05-01T10:00:00.500000000Z'),
    );
    assert.equal(
      toEngineSince(parseEngineTimestamp('1970-01-01T00:00:01.000000042Z')),
      '1.000000042',
    );
  });

  it('rejects text that is not a timestamp, naming it', () => {
    assert.throws(
      () => parseEngineTimestamp('yesterday'),
      /not an RFC 3339 timestamp: "yesterday"/,
    );
  });
});
