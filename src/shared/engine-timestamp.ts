/**
 * Engine timestamps (RFC 3339 with up to nine fraction digits, e.g. `2024-05-01T10:00:00.123456789Z`).
 * JavaScript dates stop at milliseconds, but two log lines often share a millisecond, so resuming a log
 * stream without duplicates or gaps needs the nanoseconds: these helpers keep them in a bigint.
 */
import { BosunError } from './errors.js';

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Nanoseconds since the Unix epoch. */
export function parseEngineTimestamp(text: string): bigint {
  const match = RFC3339.exec(text);
  const seconds = match ? Date.parse(`${match[1]}${match[3]}`) : Number.NaN;
  if (!match || Number.isNaN(seconds)) {
    throw new BosunError('VALIDATION_FAILED', `not an RFC 3339 timestamp: ${JSON.stringify(text)}`);
  }
  const fraction = (match[2] ?? '').padEnd(9, '0');
  return BigInt(seconds) * 1_000_000n + BigInt(fraction);
}

/** `seconds.nanoseconds`, the form the engine's `since` query parameter takes. */
export function toEngineSince(nanos: bigint): string {
  const seconds = nanos / 1_000_000_000n;
  const rest = nanos % 1_000_000_000n;
  return `${seconds}.${rest.toString().padStart(9, '0')}`;
}

/** Milliseconds since the epoch (what log messages carry on the wire). */
export function nanosToMillis(nanos: bigint): number {
  return Number(nanos / 1_000_000n);
}

/** The RFC 3339 form with all nine fraction digits, as the engine writes it. */
export function formatEngineTimestamp(nanos: bigint): string {
  const millis = nanos / 1_000_000n;
  const iso = new Date(Number(millis)).toISOString(); // …T10:00:00.123Z
  const fraction = (((nanos % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n)
    .toString()
    .padStart(9, '0');
  return `${iso.slice(0, 19)}.${fraction}Z`;
}
