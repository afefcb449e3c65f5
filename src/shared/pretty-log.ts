/**
 * Log lines for people, used when stdout is a terminal: `10:42:13.120 WARN  reconciler
 * reconciler.updates-locked  step=take-lock app=… code=UPDATES_LOCKED: Updates are locked`. It reads
 * the JSON lines pino writes (so redaction and throttling already happened) and reprints them; a line
 * that is not JSON passes through unchanged. A small formatter instead of pino-pretty: a dozen
 * lines, no worker thread, nothing more to load on a Pi.
 */
export interface TextSink {
  write(text: string): unknown;
}

const LEVEL_COLOURS: Record<string, string> = {
  fatal: '\u001b[41;97m',
  error: '\u001b[31m',
  warn: '\u001b[33m',
  info: '\u001b[32m',
  debug: '\u001b[90m',
  trace: '\u001b[90m',
};
const DIM = '\u001b[2m';
const RESET = '\u001b[0m';

/** Fields printed in the head of the line, or not at all. */
const HEAD = new Set(['time', 'level', 'component', 'event']);

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

function errorText(err: unknown): string {
  if (typeof err !== 'object' || err === null) return value(err);
  const e = err as { message?: unknown; code?: unknown; type?: unknown };
  const message = typeof e.message === 'string' ? e.message : value(err);
  return typeof e.code === 'string' ? `${e.code}: ${message}` : message;
}

/** One JSON log line as one line of text for a person. */
export function formatForPeople(line: string, colour: boolean): string {
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return line;
    record = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof record['time'] === 'string' ? record['time'].slice(11, 23) : '';
  const level = typeof record['level'] === 'string' ? record['level'] : 'info';
  const component = typeof record['component'] === 'string' ? record['component'] : '';
  const event = typeof record['event'] === 'string' ? record['event'] : '';
  const fields: string[] = [];
  let error = '';
  for (const [k, v] of Object.entries(record)) {
    if (HEAD.has(k) || v === undefined) continue;
    if (k === 'err' || k === 'error') error = errorText(v);
    else fields.push(`${k}=${value(v)}`);
  }
  const levelText = level.toUpperCase().padEnd(5);
  const head = colour
    ? `${DIM}${time}${RESET} ${LEVEL_COLOURS[level] ?? ''}${levelText}${RESET} ${DIM}${component.padEnd(10)}${RESET} ${event}`
    : `${time} ${levelText} ${component.padEnd(10)} ${event}`;
  const tail = [fields.join(' '), error === '' ? '' : `— ${error}`].filter((s) => s !== '');
  return tail.length === 0 ? head : `${head}  ${tail.join(' ')}`;
}

/** A pino destination that reprints every line for people on `out`. */
export function peopleDestination(out: TextSink, colour: boolean): { write(text: string): void } {
  return {
    write(text: string): void {
      const lines = text.split('\n').filter((l) => l !== '');
      out.write(lines.map((l) => `${formatForPeople(l, colour)}\n`).join(''));
    },
  };
}
