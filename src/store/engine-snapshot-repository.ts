/** The engine snapshot taken on entering local mode (at most one). */
import type Database from 'better-sqlite3';
import * as z from 'zod';
import { BosunError } from '../shared/errors.js';
import { readJsonColumn } from './json-column.js';
import type { EngineSnapshot, EngineSnapshotRepository } from './ports.js';
import { preparedStatements } from './sqlite-database.js';
import { storeOperation } from './store-error.js';

interface SnapshotRow {
  id: number;
  snapshot: string;
  taken_at: string;
}

const snapshotSchema = z.object({
  containers: z.array(z.string()),
  images: z.array(z.string()),
  volumes: z.array(z.string()),
  networks: z.array(z.string()),
});

const SNAPSHOT_ROW_ID = 1;

const SQL = {
  upsert:
    'insert into engine_snapshot (id, snapshot, taken_at) values (?, ?, ?) ' +
    'on conflict (id) do update set snapshot = excluded.snapshot, taken_at = excluded.taken_at',
  get: 'select id, snapshot, taken_at from engine_snapshot where id = ?',
  clear: 'delete from engine_snapshot',
};

export class SqliteEngineSnapshotRepository implements EngineSnapshotRepository {
  private readonly sql;

  constructor(db: Database.Database) {
    this.sql = preparedStatements(db, SQL);
  }

  save(snapshot: EngineSnapshot, takenAt: Date): Promise<void> {
    return storeOperation('saving the engine snapshot', () => {
      const row: SnapshotRow = {
        id: SNAPSHOT_ROW_ID,
        snapshot: JSON.stringify(snapshotSchema.parse(snapshot)),
        taken_at: takenAt.toISOString(),
      };
      this.sql('upsert').run(row.id, row.snapshot, row.taken_at);
    });
  }

  load(): Promise<{ snapshot: EngineSnapshot; takenAt: Date } | undefined> {
    return storeOperation('loading the engine snapshot', () => {
      const row = this.sql('get').get(SNAPSHOT_ROW_ID) as SnapshotRow | undefined;
      if (!row) return undefined;
      const takenAt = new Date(row.taken_at);
      if (Number.isNaN(takenAt.getTime())) {
        throw new BosunError(
          'STORE_ERROR',
          `engine_snapshot.taken_at is not a date: '${row.taken_at}'`,
        );
      }
      return {
        snapshot: readJsonColumn(snapshotSchema, row.snapshot, 'engine_snapshot.snapshot'),
        takenAt,
      };
    });
  }

  clear(): Promise<void> {
    return storeOperation('clearing the engine snapshot', () => {
      this.sql('clear').run();
    });
  }
}
