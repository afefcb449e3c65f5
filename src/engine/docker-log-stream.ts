/**
 * Turns the engine's raw `GET /containers/{id}/logs?timestamps=1` body into lines.
 * Without a TTY the body is multiplexed: frames of an 8-byte header (stream type, 3 zero bytes, big-endian
 * length) and a payload holding exactly one log message prefixed by its timestamp; a message the engine
 * split (over 16 KiB) arrives as several frames without a trailing newline, each kept as its own line.
 * With a TTY there are no frames and stdout and stderr are already merged: split on newlines.
 */
import type { ContainerLogLine } from './port.js';

const HEADER_BYTES = 8;

export async function* parseDockerLogStream(
  chunks: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
  multiplexed: boolean,
): AsyncGenerator<ContainerLogLine> {
  if (multiplexed) yield* demultiplex(chunks);
  else yield* splitTtyLines(chunks);
}

async function* demultiplex(
  chunks: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
): AsyncGenerator<ContainerLogLine> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    pending = pending.length === 0 ? toBuffer(chunk) : Buffer.concat([pending, toBuffer(chunk)]);
    let offset = 0;
    while (pending.length - offset >= HEADER_BYTES) {
      const size = pending.readUInt32BE(offset + 4);
      if (pending.length - offset - HEADER_BYTES < size) break;
      const kind = pending[offset];
      const payload = pending.toString('utf8', offset + HEADER_BYTES, offset + HEADER_BYTES + size);
      offset += HEADER_BYTES + size;
      // 0 would be stdin, which logs never carry; anything else is not ours to guess at.
      if (kind !== 1 && kind !== 2) continue;
      const parsed = splitTimestamp(stripNewline(payload));
      if (parsed) yield { stream: kind === 2 ? 'stderr' : 'stdout', ...parsed };
    }
    pending = pending.subarray(offset);
  }
}

async function* splitTtyLines(
  chunks: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
): AsyncGenerator<ContainerLogLine> {
  // Decode only whole lines so a multi-byte character split across chunks survives.
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    pending = pending.length === 0 ? toBuffer(chunk) : Buffer.concat([pending, toBuffer(chunk)]);
    let newline = pending.indexOf(0x0a);
    while (newline !== -1) {
      const parsed = splitTimestamp(stripNewline(pending.toString('utf8', 0, newline)));
      if (parsed) yield { stream: 'stdout', ...parsed };
      pending = pending.subarray(newline + 1);
      newline = pending.indexOf(0x0a);
    }
  }
  if (pending.length > 0) {
    const parsed = splitTimestamp(stripNewline(pending.toString('utf8')));
    if (parsed) yield { stream: 'stdout', ...parsed };
  }
}

function splitTimestamp(text: string): { timestamp: string; line: string } | undefined {
  const space = text.indexOf(' ');
  // The engine always writes `<timestamp> <message>`; anything else is not a log line.
  if (space <= 0) return undefined;
  return { timestamp: text.slice(0, space), line: text.slice(space + 1) };
}

/** A TTY turns `\n` into `\r\n`; neither belongs to the message. */
function stripNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n') || text.endsWith('\r')) return text.slice(0, -1);
  return text;
}

function toBuffer(chunk: Buffer | string): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
}
