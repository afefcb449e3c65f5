/** The engine snapshot taken on entering local mode (at most one). */
import type { Knex } from 'knex';
import { z } from 'zod';
import { BosunError } from '../shared/errors.js';
import { readJsonColumn } from './json-column.js';
import type { EngineSnapshot, EngineSnapshotRepository } from './ports.js';
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

export class SqliteEngineSnapshotRepository implements EngineSnapshotRepository {
  constructor(private readonly knex: Knex) {}

  save(snapshot: EngineSnapshot, takenAt: Date): Promise<void> {
    return storeOperation('saving the engine snapshot', async () => {
      const row: SnapshotRow = {
        id: SNAPSHOT_ROW_ID,
        snapshot: JSON.stringify(snapshotSchema.parse(snapshot)),
        taken_at: takenAt.toISOString(),
      };
      await this.knex<SnapshotRow>('engine_snapshot').insert(row).onConflict('id').merge();
    });
  }

  load(): Promise<{ snapshot: EngineSnapshot; takenAt: Date } | undefined> {
    return storeOperation('loading the engine snapshot', async () => {
      const row = await this.knex<SnapshotRow>('engine_snapshot')
        .where({ id: SNAPSHOT_ROW_ID })
        .first();
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
    return storeOperation('clearing the engine snapshot', async () => {
      await this.knex<SnapshotRow>('engine_snapshot').delete();
    });
  }
}
