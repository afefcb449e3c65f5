/**
 * Capture cursors kept in the log spool, committed in the same transaction as the lines they cover:
 * after a SIGKILL capture resumes exactly after the last line the spool holds, so a crash neither
 * repeats a line into the spool nor loses one. (The cursor file alone is written debounced, so it can
 * only lag, and lagging repeats lines, which would reach the cloud twice.)
 *
 * The spool may live on tmpfs and be empty after a reboot: the cursor file in the data dir is kept as
 * well and used for containers the spool has no cursor for (then a few lines may repeat, as before).
 *
 * Bytes: a chatty container's cursor remembers up to 2,000 lines, and it is stored with every commit
 * (up to 10 a second). So a cursor row is written only when it changed (an idle container's never), and
 * in a compact form, `<floor> <delta>o|e,...` with base-36 nanosecond offsets from the floor (about 8
 * bytes a line instead of 23 in JSON); rows written as JSON by earlier versions are still read.
 */
import type { Logger } from '../shared/logger.js';
import type { LogCursorState } from './log-cursor.js';
import type { LiveCursor, LogCursorStore } from './log-cursor-store.js';
import type { LogSpool } from './log-spool.js';

export class SpoolCursorStore implements LogCursorStore {
  private readonly states = new Map<string, LogCursorState>();
  private readonly live = new Map<string, LiveCursor>();
  private deleted = new Set<string>();
  /** What the spool holds per container, so an unchanged cursor is not written again. */
  private readonly written = new Map<string, string>();

  constructor(
    spool: Pick<LogSpool, 'loadCursors' | 'setCursorSource'>,
    private readonly fallback: LogCursorStore,
    logger: Logger,
  ) {
    for (const id of fallback.containerIds()) {
      const state = fallback.get(id);
      if (state !== undefined) this.states.set(id, state);
    }
    for (const [id, text] of spool.loadCursors()) {
      const state = parseState(text);
      if (state === undefined) logger.warn('logs.spool-cursor-invalid', { containerId: id });
      else this.states.set(id, state);
      this.written.set(id, text);
    }
    spool.setCursorSource(() => this.changes());
  }

  get(containerId: string): LogCursorState | undefined {
    return this.states.get(containerId);
  }

  set(containerId: string, cursor: LogCursorState): void {
    this.states.set(containerId, cursor);
    this.fallback.set(containerId, cursor);
  }

  track(containerId: string, cursor: LiveCursor): void {
    this.live.set(containerId, cursor);
    this.deleted.delete(containerId);
  }

  delete(containerId: string): void {
    this.states.delete(containerId);
    this.live.delete(containerId);
    this.deleted.add(containerId);
    this.fallback.delete(containerId);
  }

  containerIds(): string[] {
    return [...this.states.keys()];
  }

  flush(): Promise<void> {
    return this.fallback.flush();
  }

  /** Called by the spool inside its commit. */
  private changes(): { upserts: [string, string][]; deletes: string[] } {
    const upserts: [string, string][] = [];
    for (const [id, cursor] of this.live) {
      const state = cursor.toState();
      if (state === undefined) continue;
      const text = encodeState(state);
      if (this.written.get(id) === text) continue;
      this.written.set(id, text);
      upserts.push([id, text]);
    }
    const deletes = [...this.deleted];
    for (const id of deletes) this.written.delete(id);
    this.deleted = new Set();
    return { upserts, deletes };
  }
}

/** `<floor> <base-36 offset><o|e>,...`; lines below the floor are left out (the floor covers them). */
export function encodeState(state: LogCursorState): string {
  const floor = BigInt(state.floor);
  const keys: string[] = [];
  for (const key of state.seen) {
    const colon = key.indexOf(':');
    const offset = BigInt(key.slice(0, colon)) - floor;
    if (offset < 0n || offset > BigInt(Number.MAX_SAFE_INTEGER)) continue;
    keys.push(Number(offset).toString(36) + key.slice(colon + 1));
  }
  return `${state.floor} ${keys.join(',')}`;
}

const COMPACT = /^(\d+) ((?:[0-9a-z]+[oe])(?:,[0-9a-z]+[oe])*)?$/;

export function parseState(text: string): LogCursorState | undefined {
  const compact = COMPACT.exec(text);
  if (compact !== null) {
    const floor = BigInt(compact[1] as string);
    const seen = (compact[2] ?? '')
      .split(',')
      .filter((k) => k !== '')
      .map((k) => `${floor + BigInt(parseInt(k.slice(0, -1), 36))}:${k.slice(-1)}`);
    return { floor: floor.toString(), seen };
  }
  try {
    const value = JSON.parse(text) as Partial<LogCursorState> | null;
    if (
      typeof value?.floor === 'string' &&
      /^\d+$/.test(value.floor) &&
      Array.isArray(value.seen) &&
      value.seen.every((k) => typeof k === 'string' && /^\d+:[oe]$/.test(k))
    )
      return { floor: value.floor, seen: value.seen };
  } catch {
    // fall through
  }
  return undefined;
}
