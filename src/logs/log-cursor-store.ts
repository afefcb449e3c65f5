/**
 * Keeps log cursors across bosun restarts. Reads and writes are in memory; `FileLogCursorStore` writes
 * the whole map to one small JSON file (temp file + rename, so a crash leaves the old or the new file,
 * never half of one) at most once per `debounceMs`, and on `flush()`. A crash inside that window can
 * only repeat lines on the next start, never lose them: the cursor on disk is older, not newer.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BosunError, errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { LogCursorState } from './log-cursor.js';

export interface LogCursorStore {
  get(containerId: string): LogCursorState | undefined;
  set(containerId: string, cursor: LogCursorState): void;
  delete(containerId: string): void;
  containerIds(): string[];
  /** Resolves when everything set so far is durable. */
  flush(): Promise<void>;
  /**
   * A live cursor of an attached container, for stores that snapshot it themselves at the moment they
   * make lines durable (the spool-backed store), rather than at `set`'s coarser pace.
   */
  track?(containerId: string, cursor: LiveCursor): void;
}

export interface LiveCursor {
  toState(): LogCursorState | undefined;
}

export class MemoryLogCursorStore implements LogCursorStore {
  protected readonly cursors = new Map<string, LogCursorState>();

  get(containerId: string): LogCursorState | undefined {
    return this.cursors.get(containerId);
  }
  set(containerId: string, cursor: LogCursorState): void {
    this.cursors.set(containerId, cursor);
    this.changed();
  }
  delete(containerId: string): void {
    if (this.cursors.delete(containerId)) this.changed();
  }
  containerIds(): string[] {
    return [...this.cursors.keys()];
  }
  flush(): Promise<void> {
    return Promise.resolve();
  }
  protected changed(): void {}
}

export class FileLogCursorStore extends MemoryLogCursorStore {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  private constructor(
    private readonly path: string,
    private readonly debounceMs: number,
    private readonly logger: Logger,
  ) {
    super();
  }

  /** Loads `path` if it exists; a corrupt file is moved aside (logged) and capture starts afresh. */
  static async open(
    path: string,
    options: { debounceMs?: number; logger: Logger },
  ): Promise<FileLogCursorStore> {
    const store = new FileLogCursorStore(path, options.debounceMs ?? 1000, options.logger);
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new BosunError(
          'STORE_ERROR',
          `cannot read log cursors ${path}: ${errorMessage(err)}`,
          { cause: err },
        );
      }
    }
    if (text !== undefined) {
      let parsed: Record<string, LogCursorState>;
      try {
        parsed = parseCursorFile(text, path);
      } catch (err) {
        // Refusing to start over a log bookmark would cost more than it saves: keep the bad file for
        // a look, and start without cursors (running containers are re-read: repeats, never gaps).
        const aside = `${path}.corrupt-${Date.now()}`;
        await rename(path, aside);
        options.logger.error('logs.cursors-corrupt', { path, movedTo: aside, err });
        parsed = {};
      }
      for (const [id, cursor] of Object.entries(parsed)) store.cursors.set(id, cursor);
    }
    return store;
  }

  override async flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.write();
  }

  protected override changed(): void {
    this.dirty = true;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.write().catch((err: unknown) =>
        this.logger.error('logs.cursor-write-failed', { path: this.path, err }),
      );
    }, this.debounceMs);
  }

  /** Writes are serialised so an older snapshot can never overwrite a newer one. */
  private write(): Promise<void> {
    this.writing = this.writing
      .catch(() => undefined)
      .then(async () => {
        if (!this.dirty) return;
        this.dirty = false;
        const text = JSON.stringify(Object.fromEntries(this.cursors));
        const temp = `${this.path}.tmp`;
        try {
          await mkdir(dirname(this.path), { recursive: true });
          await writeFile(temp, text);
          await rename(temp, this.path);
        } catch (err) {
          this.dirty = true;
          throw new BosunError(
            'STORE_ERROR',
            `cannot write log cursors ${this.path}: ${errorMessage(err)}`,
            { cause: err },
          );
        }
      });
    return this.writing;
  }
}

function parseCursorFile(text: string, path: string): Record<string, LogCursorState> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BosunError('STORE_ERROR', `log cursors ${path} is not JSON: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BosunError(
      'STORE_ERROR',
      `log cursors ${path}: expected an object keyed by container id`,
    );
  }
  const out: Record<string, LogCursorState> = {};
  for (const [id, cursor] of Object.entries(value as Record<string, unknown>)) {
    const c = cursor as Partial<LogCursorState> | null;
    if (
      typeof c?.floor !== 'string' ||
      !/^\d+$/.test(c.floor) ||
      !Array.isArray(c.seen) ||
      !c.seen.every((k) => typeof k === 'string' && /^\d+:[oe]$/.test(k))
    ) {
      throw new BosunError('STORE_ERROR', `log cursors ${path}: entry ${id} is not {floor, seen}`);
    }
    out[id] = { floor: c.floor, seen: c.seen };
  }
  return out;
}
