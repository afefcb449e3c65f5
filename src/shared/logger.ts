/**
 * Structured JSON logs. A Logger is passed to whoever logs (no global logger); `child()` binds
 * context such as {component, app, service, step}. Secrets are redacted by key name, and identical
 * repeated errors are throttled so a crash-looping service cannot flood the log.
 */
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';
import { peopleDestination } from './pretty-log.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type LogFields = Record<string, unknown>;

export interface Logger {
  error(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  debug(event: string, fields?: LogFields): void;
  child(bindings: LogFields): Logger;
}

const REDACT = [
  'apiKey',
  'deviceApiKey',
  'password',
  'key',
  'token',
  'authorization',
  '*.apiKey',
  '*.deviceApiKey',
  '*.password',
  '*.key',
  '*.token',
  '*.authorization',
];

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; stdout by default. Tests pass a stream to read them back. */
  destination?: DestinationStream;
  /**
   * `json` (default): one JSON object per line, for machines. `people`: time, level, component, event
   * and key fields as text (main.ts picks it when stdout is a terminal), coloured when `colour`.
   */
  format?: 'json' | 'people';
  colour?: boolean;
  /** Repeats of the same (event, error message) within this window are counted, not printed. */
  throttleMs?: number;
  now?: () => number;
}

class PinoBackedLogger implements Logger {
  constructor(
    private readonly pinoLogger: PinoLogger,
    private readonly throttle: ErrorThrottle,
  ) {}

  error(event: string, fields: LogFields = {}): void {
    const suppressed = this.throttle.admit(event, fields);
    if (suppressed === false) return;
    this.pinoLogger.error(
      suppressed > 0 ? { ...fields, suppressedRepeats: suppressed } : fields,
      event,
    );
  }
  warn(event: string, fields: LogFields = {}): void {
    this.pinoLogger.warn(fields, event);
  }
  info(event: string, fields: LogFields = {}): void {
    this.pinoLogger.info(fields, event);
  }
  debug(event: string, fields: LogFields = {}): void {
    this.pinoLogger.debug(fields, event);
  }
  child(bindings: LogFields): Logger {
    return new PinoBackedLogger(this.pinoLogger.child(bindings), this.throttle);
  }
}

/** Lets the first of a run of identical errors through, then one per window with a repeat count. */
class ErrorThrottle {
  private readonly seen = new Map<string, { at: number; repeats: number }>();
  constructor(
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  /** false: drop it; a number: log it, with that many repeats dropped since the last one. */
  admit(event: string, fields: LogFields): number | false {
    if (this.windowMs <= 0) return 0;
    const err = fields['err'] ?? fields['error'];
    const key = `${event}\u0000${err instanceof Error ? err.message : String(err)}`;
    const now = this.now();
    const entry = this.seen.get(key);
    if (entry && now - entry.at < this.windowMs) {
      entry.repeats++;
      return false;
    }
    this.seen.set(key, { at: now, repeats: 0 });
    if (this.seen.size > 1000) this.seen.clear(); // bounded: forgetting only means one extra line
    return entry?.repeats ?? 0;
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const base = pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      messageKey: 'event',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    options.format === 'people'
      ? peopleDestination(options.destination ?? process.stdout, options.colour ?? false)
      : (options.destination ?? pino.destination({ dest: 1, sync: false })),
  );
  return new PinoBackedLogger(
    base,
    new ErrorThrottle(options.throttleMs ?? 60_000, options.now ?? Date.now),
  );
}

/** A logger that drops everything; for pure-code tests that do not look at logs. */
export function silentLogger(): Logger {
  return createLogger({ level: 'silent' });
}
