/**
 * Capture cursors kept in the log spool, committed in the same transaction as the lines they cover:
 * after a SIGKILL capture resumes exactly after the last line the spool holds, so a crash neither
 * repeats a line into the spool nor loses one. (The cursor file alone is written debounced, so it can
 * only lag, and lagging repeats lines, which would reach the cloud twice.)
 *
 * The spool may live on tmpfs and be empty after a reboot: the cursor file in the data dir is kept as
 * well and used for containers the spool has no cursor for (then a few lines may repeat, as before).
 */
import type { Logger } from '../shared/logger.js';
import type { LogCursorState } from './log-cursor.js';
import type { LiveCursor, LogCursorStore } from './log-cursor-store.js';
import type { LogSpool } from './log-spool.js';

export class SpoolCursorStore implements LogCursorStore {
  private readonly states = new Map<string, LogCursorState>();
  private readonly live = new Map<string, LiveCursor>();
  private deleted = new Set<string>();

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
      if (state !== undefined) upserts.push([id, JSON.stringify(state)]);
    }
    const deletes = [...this.deleted];
    this.deleted = new Set();
    return { upserts, deletes };
  }
}

function parseState(text: string): LogCursorState | undefined {
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
