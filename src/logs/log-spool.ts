/**
 * The durable log spool: every line bosun captures (container output and system lines) lands here
 * first, and every consumer reads from here: the cloud shipper (which acknowledges what the cloud took),
 * the local `/v2/local/logs` stream (fed from each commit) and the read-back endpoint (queries).
 *
 * Format: SQLite, in its own file (not the state DB, so log volume never slows target-state writes),
 * WAL journal. Chosen over hand-rolled segment files because what we need is exactly what it gives:
 * - a batch of lines, the evictions it causes, their drop notices and the acknowledgement cursor commit
 *   in one transaction, so a SIGKILL at any instant leaves the state before or after the batch, never
 *   half of it (segment files would need our own checksums, recovery scan and a cursor file kept in step);
 * - eviction of the oldest lines *per service* and overall, and read-back by service and time, are
 *   indexed queries rather than scans of every segment;
 * - memory stays bounded: a small page cache, rows streamed by the shipper in bounded pages.
 * Journal, by what must survive (`survivesPowerCut`, true when persistent logging keeps the spool on the
 * data partition): WAL with `synchronous = NORMAL`, so a power cut may lose the last commits but never
 * corrupts the file, and no fsync blocks the event loop on a commit. WAL writes every page twice (log,
 * then checkpoint), though. On tmpfs (the default) a power cut loses the spool whatever we do, so there
 * a rollback journal (`PERSIST`, the file kept and only its header rewritten) with `synchronous = OFF`
 * writes half the bytes (bench/logs-stream.ts) and still survives a SIGKILL: the kernel holds the
 * written pages and the journal, and the next open rolls a half-done commit back.
 *
 * Writes are batched: `publish` inserts into an open transaction (SQLite's page cache, outside the JS
 * heap, so a flood does not pile short-lived rows into the garbage collector's old space), and a commit
 * happens at most every `commitIntervalMs` (100 ms), or at once when the open transaction passes
 * `maxBufferedBytes`, or with a system line (few, and each says what the agent did: it must survive a
 * SIGKILL as the effect it reports does). So an SD card sees one write per 100 ms under load, not one
 * per line. Readers (the shipper, commit listeners) only ever see committed lines.
 *
 * Bounds: total bytes and bytes per service (line bytes plus a fixed per-row overhead). Over a bound,
 * the oldest lines go first: lines the cloud already acknowledged (history only) before lines not yet
 * shipped. Lines not yet shipped that are evicted are counted per service, and the count is announced
 * in the stream itself as a system line, in the same transaction. Lines of the batch in flight to the
 * cloud are never evicted (so a count never covers a line the cloud may still acknowledge); the bound
 * can thus be passed by at most one batch.
 */
import Database from 'better-sqlite3';
import { mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../shared/logger.js';
import { SQLITE_ADDON_PATH } from '../shared/sqlite-addon.js';
import { truncateMessage, type LogMessage } from './log-message.js';
import { dropNotice, parseDropNotice, wireFields } from './spool-line.js';
import type { LogSink } from './log-sink.js';

/** SQLite's per-row cost, roughly, so 1-byte lines cannot make the bound meaningless. */
const ROW_OVERHEAD_BYTES = 48;
/** Evict down to this fraction of a bound, so a full spool does not evict on every commit. */
const EVICT_TO = 0.9;
import { SYSTEM_SERVICE } from './spool-line.js';
export { SYSTEM_SERVICE };

export interface LogSpoolLimits {
  maxBytes: number;
  maxServiceBytes: number;
}

export interface LogSpoolOptions {
  dir: string;
  limits: LogSpoolLimits;
  logger: Logger;
  now: () => number;
  /** WAL, safe across a power cut (persistent logging); otherwise a lighter rollback journal. */
  survivesPowerCut?: boolean;
  commitIntervalMs?: number;
  maxBufferedBytes?: number;
  /** Told how many unshipped lines a commit dropped for the bounds (metrics), once it is on disk. */
  onDropped?: (lines: number) => void;
}

/** A stored line as consumers read it. `wire` is the cloud NDJSON object (no newline). */
export interface SpooledLine {
  id: number;
  /** serviceName, or '' for system lines. */
  service: string;
  timestamp: number;
  wire: string;
}

interface Row {
  service: string;
  timestamp: number;
  wire: string;
  size: number;
}

/** Told after each commit; read what is new with `readAfter`. */
export type CommitListener = () => void;

/** Capture positions to store with a commit: they cover exactly the lines committed with them. */
export interface CursorChanges {
  upserts: [containerId: string, state: string][];
  deletes: string[];
}

export class LogSpool implements LogSink {
  private readonly db: Database.Database;
  private readonly statements: ReturnType<typeof prepare>;
  private readonly logger: Logger;
  private readonly commitIntervalMs: number;
  private readonly maxBufferedBytes: number;
  /** Whether a transaction is open, and what it holds so far. */
  private open = false;
  private openLines = 0;
  private openBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastCommitAt = Number.NEGATIVE_INFINITY;
  private readonly serviceBytes = new Map<string, number>();
  private totalBytes = 0;
  private acked: number;
  /** Newest id inserted (maybe not committed yet), and newest committed. */
  private newest: number;
  private committed: number;
  /** Highest id of the batch the shipper has in flight (never evicted); ≤ acked when none. */
  private inFlightTo = 0;
  private pendingAck: number | undefined;
  private ackWaiters: (() => void)[] = [];
  private readonly listeners = new Set<CommitListener>();
  private readonly dropTotals = new Map<string, number>();
  private closed = false;
  private commits = 0;
  private cursorSource: (() => CursorChanges) | undefined;

  constructor(private readonly options: LogSpoolOptions) {
    this.logger = options.logger.child({ component: 'log-spool' });
    this.commitIntervalMs = options.commitIntervalMs ?? 100;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    mkdirSync(options.dir, { recursive: true });
    this.db = openDatabase(
      join(options.dir, 'log-spool.sqlite'),
      options.survivesPowerCut ?? true,
      this.logger,
    );
    this.statements = prepare(this.db);
    for (const row of this.statements.sizes.all() as { service: string; bytes: number }[]) {
      this.serviceBytes.set(row.service, row.bytes);
      this.totalBytes += row.bytes;
    }
    const ack = this.statements.getMeta.get('acked') as { value: number } | undefined;
    this.acked = ack?.value ?? 0;
    const seq = this.statements.lastId.get() as { seq: number } | undefined;
    this.newest = seq?.seq ?? 0;
    this.committed = this.newest;
    for (const row of this.statements.drops.all() as { service: string; count: number }[])
      this.dropTotals.set(row.service, row.count);
  }

  /** Adds one line to the open batch; committed with it. Never throws, never blocks. */
  publish(message: LogMessage): void {
    if (this.closed) return;
    const capped = truncateMessage(message);
    const wire = JSON.stringify(wireFields(capped));
    const service = capped.isSystem
      ? SYSTEM_SERVICE
      : (capped.serviceName ?? `#${capped.serviceId ?? 0}`);
    const size = wire.length + ROW_OVERHEAD_BYTES;
    try {
      this.begin();
      this.insert({ service, timestamp: capped.timestamp, wire, size });
      this.openLines++;
      this.openBytes += size;
    } catch (err) {
      this.logger.error('logs.spool-insert-failed', { err });
      return;
    }
    // A system line is the agent's own account of what it did, and what it did (a release's verdict,
    // a container removed) is stored at once elsewhere: committed at once too, so a SIGKILL that the
    // effect survives cannot lose the line that says so. They are few; container lines stay batched.
    if (capped.isSystem || this.openBytes >= this.maxBufferedBytes) this.commit();
    else this.schedule();
  }

  /**
   * Capture's cursors are written in the same transaction as the lines they cover, so after a SIGKILL
   * the spool and the cursors agree: capture resumes exactly after the last committed line.
   */
  setCursorSource(source: () => CursorChanges): void {
    this.cursorSource = source;
  }

  /** Stored capture cursors, container id → JSON state. */
  loadCursors(): Map<string, string> {
    const rows = this.statements.cursors.all() as { container: string; state: string }[];
    return new Map(rows.map((r) => [r.container, r.state]));
  }

  onCommit(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Id of the last line the cloud acknowledged (or that was never meant for it). */
  get acknowledged(): number {
    return this.acked;
  }

  /** Id of the newest committed line. */
  get lastId(): number {
    return this.committed;
  }

  /** Lines after `afterId`, oldest first, at most `maxLines` and about `maxBytes` (at least one line). */
  readAfter(afterId: number, maxLines: number, maxBytes: number): SpooledLine[] {
    const rows = this.statements.after.all(afterId, this.committed, maxLines) as SpooledLine[];
    let bytes = 0;
    for (let i = 0; i < rows.length; i++) {
      bytes += (rows[i] as SpooledLine).wire.length;
      if (bytes > maxBytes && i > 0) return rows.slice(0, i);
    }
    return rows;
  }

  /** The shipper says which ids it has in flight, so eviction leaves them alone. */
  markInFlight(toId: number): void {
    this.inFlightTo = Math.max(this.inFlightTo, toId);
  }

  /**
   * After a restart nobody knows what was in flight when the process died, only that it was the start
   * of the unacknowledged lines and at most one batch: protect the first `maxLines` of them until the
   * cloud acknowledges past them. Otherwise eviction could count as dropped a line the cloud received
   * just before the crash.
   */
  protectPossiblyInFlight(maxLines: number): void {
    const row = this.statements.nth.get(this.acked, Math.max(0, maxLines - 1)) as
      { id: number } | undefined;
    this.markInFlight(row?.id ?? this.committed);
  }

  /**
   * The cloud took every line up to `id`: record it (with the next commit, which happens at once when
   * the last one is older than the commit interval) and resolve once it is on disk, so that after a crash
   * only a batch that was never acknowledged can repeat.
   */
  acknowledge(id: number): Promise<void> {
    if (id <= this.acked && this.pendingAck === undefined) return Promise.resolve();
    this.pendingAck = Math.max(this.pendingAck ?? 0, id);
    const done = new Promise<void>((resolve) => this.ackWaiters.push(resolve));
    this.schedule();
    return done;
  }

  /** Lines dropped unshipped because of the bounds, per service ('' = system), since the spool was made. */
  dropCounts(): ReadonlyMap<string, number> {
    return this.dropTotals;
  }

  /** Bytes held (line bytes plus row overhead), overall and per service. */
  usage(): { totalBytes: number; services: Record<string, number>; commits: number } {
    return {
      totalBytes: this.totalBytes,
      services: Object.fromEntries(this.serviceBytes),
      commits: this.commits,
    };
  }

  /** Recent lines of one service ('' = system), newest last, within [since, until] (ms). */
  recent(query: { service: string; since?: number; until?: number; limit: number }): SpooledLine[] {
    const rows = this.statements.recent.all(
      query.service,
      query.since ?? 0,
      query.until ?? Number.MAX_SAFE_INTEGER,
      query.limit,
    ) as SpooledLine[];
    return rows.reverse();
  }

  /** Commits the open batch (and a pending acknowledgement) now. */
  commit(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed) return;
    const ack = this.pendingAck;
    if (!this.open && ack === undefined) return;
    const lines = this.openLines;
    this.pendingAck = undefined;
    const waiters = this.ackWaiters;
    this.ackWaiters = [];
    try {
      this.begin();
      if (lines > 0 && this.cursorSource !== undefined) {
        const changes = this.cursorSource();
        for (const [id, state] of changes.upserts) this.statements.setCursor.run(id, state);
        for (const id of changes.deletes) this.statements.deleteCursor.run(id);
      }
      if (ack !== undefined && ack > this.acked) this.statements.setMeta.run('acked', ack);
      const dropped = this.enforceBounds();
      this.db.exec('COMMIT');
      if (dropped > 0) this.options.onDropped?.(dropped);
      if (ack !== undefined && ack > this.acked) this.acked = ack;
      this.committed = this.newest;
      this.commits++;
    } catch (err) {
      // A full or broken disk: the batch is lost (said in the log); capture goes on.
      this.logger.error('logs.spool-commit-failed', { lines, err });
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.recount();
    }
    this.open = false;
    this.openLines = 0;
    this.openBytes = 0;
    this.lastCommitAt = this.options.now();
    for (const resolve of waiters) resolve();
    for (const listener of this.listeners) listener();
  }

  private begin(): void {
    if (this.open) return;
    this.db.exec('BEGIN');
    this.open = true;
  }

  /** After a rolled-back commit the counters must match the file again. */
  private recount(): void {
    this.serviceBytes.clear();
    this.totalBytes = 0;
    for (const row of this.statements.sizes.all() as { service: string; bytes: number }[]) {
      this.serviceBytes.set(row.service, row.bytes);
      this.totalBytes += row.bytes;
    }
    const seq = this.statements.lastId.get() as { seq: number } | undefined;
    this.newest = seq?.seq ?? 0;
    this.committed = this.newest;
  }

  close(): void {
    if (this.closed) return;
    this.commit();
    this.closed = true;
    this.db.close();
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    const wait = Math.max(0, this.lastCommitAt + this.commitIntervalMs - this.options.now());
    this.timer = setTimeout(() => this.commit(), wait);
  }

  private insert(row: Row): void {
    const info = this.statements.insert.run(row.service, row.timestamp, row.size, row.wire);
    this.newest = Number(info.lastInsertRowid);
    this.serviceBytes.set(row.service, (this.serviceBytes.get(row.service) ?? 0) + row.size);
    this.totalBytes += row.size;
  }

  /**
   * Evicts per service, then overall, and stores a drop notice per service that lost lines. Returns the
   * lines newly dropped (a count folded from an evicted notice was counted when it was first dropped).
   */
  private enforceBounds(): number {
    const { maxBytes, maxServiceBytes } = this.options.limits;
    const dropped = new Map<string, number>();
    let fresh = 0;
    for (const [service, bytes] of this.serviceBytes)
      if (bytes > maxServiceBytes)
        fresh += this.evict(bytes - maxServiceBytes * EVICT_TO, service, dropped);
    if (this.totalBytes > maxBytes)
      fresh += this.evict(this.totalBytes - maxBytes * EVICT_TO, null, dropped);
    for (const [service, count] of dropped) {
      const total = (this.dropTotals.get(service) ?? 0) + count;
      this.dropTotals.set(service, total);
      this.statements.setDrops.run(service, total);
      const notice: LogMessage = {
        message: dropNotice(service, count),
        timestamp: this.options.now(),
        isSystem: true,
        isStdErr: true,
      };
      const wire = JSON.stringify(notice);
      this.insert({
        service: SYSTEM_SERVICE,
        timestamp: notice.timestamp,
        wire,
        size: wire.length,
      });
    }
    return fresh;
  }

  /**
   * Deletes the oldest rows (of one service, or of all) until `need` bytes are freed: acknowledged rows
   * first, then unshipped rows after the batch in flight (those are counted as dropped). Returns how
   * many lines were dropped that no notice counted yet.
   */
  private evict(need: number, service: string | null, dropped: Map<string, number>): number {
    let freed = 0;
    let fresh = 0;
    const classes: [number, number, boolean][] = [
      [0, this.acked, false],
      [Math.max(this.acked, this.inFlightTo), Number.MAX_SAFE_INTEGER, true],
    ];
    for (const [after, upTo, counts] of classes) {
      while (freed < need) {
        const rows = (
          service === null
            ? this.statements.oldest.all(after, upTo)
            : this.statements.oldestOf.all(service, after, upTo)
        ) as { id: number; service: string; size: number; wire: string | null }[];
        if (rows.length === 0) break;
        let last = after;
        for (const row of rows) {
          freed += row.size;
          last = row.id;
          this.serviceBytes.set(row.service, (this.serviceBytes.get(row.service) ?? 0) - row.size);
          this.totalBytes -= row.size;
          if (!counts) continue;
          // A drop notice that is itself evicted unshipped hands its count on to the next notice,
          // so the counts that reach the cloud always add up to the lines it never got.
          const folded = row.wire === null ? undefined : parseDropNotice(row.wire);
          if (folded !== undefined)
            dropped.set(folded.service, (dropped.get(folded.service) ?? 0) + folded.count);
          else {
            dropped.set(row.service, (dropped.get(row.service) ?? 0) + 1);
            fresh++;
          }
          if (freed >= need) break;
        }
        if (service === null) this.statements.deleteRange.run(after, last);
        else this.statements.deleteRangeOf.run(service, after, last);
        if (last >= upTo) break;
      }
      if (freed >= need) return fresh;
    }
    return fresh;
  }
}

function openDatabase(path: string, wal: boolean, logger: Logger): Database.Database {
  try {
    return configure(new Database(path, { nativeBinding: SQLITE_ADDON_PATH }), wal);
  } catch (err) {
    // A spool that cannot be opened (not a database, corrupt header) is set aside, never fatal:
    // losing old log lines beats not supervising.
    const aside = `${path}.corrupt-${Date.now()}`;
    logger.error('logs.spool-unreadable', { path, movedTo: aside, err });
    for (const suffix of ['', '-wal', '-shm', '-journal']) {
      try {
        renameSync(path + suffix, aside + suffix);
      } catch {
        // not there
      }
    }
    return configure(new Database(path, { nativeBinding: SQLITE_ADDON_PATH }), wal);
  }
}

function configure(db: Database.Database, wal: boolean): Database.Database {
  db.pragma(wal ? 'journal_mode = WAL' : 'journal_mode = PERSIST');
  db.pragma(wal ? 'synchronous = NORMAL' : 'synchronous = OFF');
  // A 2 MiB page cache: the spool's memory stays flat whatever its size on disk.
  db.pragma('cache_size = -2048');
  db.exec(`
    CREATE TABLE IF NOT EXISTS lines (
      id INTEGER PRIMARY KEY AUTOINCREMENT, -- ids never reused: the acknowledged cursor is an id
      service TEXT NOT NULL,
      ts INTEGER NOT NULL,
      size INTEGER NOT NULL,
      wire TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS lines_by_service ON lines (service, id);
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS drops (service TEXT PRIMARY KEY, count INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS cursors (container TEXT PRIMARY KEY, state TEXT NOT NULL);
  `);
  db.prepare('SELECT count(*) FROM meta').get(); // fails here, not later, on a corrupt file
  return db;
}

function prepare(db: Database.Database) {
  return {
    insert: db.prepare('INSERT INTO lines (service, ts, size, wire) VALUES (?, ?, ?, ?)'),
    sizes: db.prepare('SELECT service, SUM(size) AS bytes FROM lines GROUP BY service'),
    lastId: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'lines'"),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    drops: db.prepare('SELECT service, count FROM drops'),
    cursors: db.prepare('SELECT container, state FROM cursors'),
    setCursor: db.prepare(
      'INSERT INTO cursors (container, state) VALUES (?, ?) ON CONFLICT (container) DO UPDATE SET state = excluded.state',
    ),
    deleteCursor: db.prepare('DELETE FROM cursors WHERE container = ?'),
    setDrops: db.prepare(
      'INSERT INTO drops (service, count) VALUES (?, ?) ON CONFLICT (service) DO UPDATE SET count = excluded.count',
    ),
    after: db.prepare(
      'SELECT id, service, ts AS timestamp, wire FROM lines WHERE id > ? AND id <= ? ORDER BY id LIMIT ?',
    ),
    // System rows bring their text along: they may be drop notices (see evict).
    oldest: db.prepare(
      "SELECT id, service, size, CASE service WHEN '' THEN wire END AS wire FROM lines WHERE id > ? AND id <= ? ORDER BY id LIMIT 512",
    ),
    oldestOf: db.prepare(
      "SELECT id, service, size, CASE service WHEN '' THEN wire END AS wire FROM lines WHERE service = ? AND id > ? AND id <= ? ORDER BY id LIMIT 512",
    ),
    nth: db.prepare('SELECT id FROM lines WHERE id > ? ORDER BY id LIMIT 1 OFFSET ?'),
    deleteRange: db.prepare('DELETE FROM lines WHERE id > ? AND id <= ?'),
    deleteRangeOf: db.prepare('DELETE FROM lines WHERE service = ? AND id > ? AND id <= ?'),
    recent: db.prepare(
      'SELECT id, service, ts AS timestamp, wire FROM lines WHERE service = ? AND ts >= ? AND ts <= ? ORDER BY id DESC LIMIT ?',
    ),
  };
}
