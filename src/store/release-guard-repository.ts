/** The release guard's rows (migration 0002): one per app and role, the role's fields as JSON. */
import type { Knex } from 'knex';
import { z } from 'zod';
import { readJsonColumn } from './json-column.js';
import { jsonObjectSchema } from './json-schemas.js';
import type {
  ConfirmedReleaseRecord,
  FailedReleaseRecord,
  ReleaseGuardRepository,
  ReleaseGuardRole,
  ReleaseGuardState,
  WatchedReleaseRecord,
} from './ports.js';
import { storeOperation } from './store-error.js';

const TABLE = 'release_guard';

interface Row {
  app_uuid: string;
  role: ReleaseGuardRole;
  commit: string;
  doc_hash: string;
  data: string;
}

const confirmedData = z.object({
  document: jsonObjectSchema,
  images: z.array(z.string()),
  at: z.number(),
});
const failedData = z.object({
  reason: z.string(),
  service: z.string().optional(),
  cause: z.enum(['unhealthy', 'crashLoop', 'notRunning']),
  at: z.number(),
});
const watchingData = z.object({
  startedAt: z.number(),
  deadline: z.number(),
  restarts: z.record(z.string(), z.number()),
  exits: z.record(z.string(), z.array(z.string())),
});

export class SqliteReleaseGuardRepository implements ReleaseGuardRepository {
  constructor(private readonly knex: Knex) {}

  load(): Promise<ReleaseGuardState> {
    return storeOperation('loading the release guard', async () => {
      const rows = await this.knex<Row>(TABLE).select().orderBy(['app_uuid', 'role']);
      const confirmed: ConfirmedReleaseRecord[] = [];
      const failed: FailedReleaseRecord[] = [];
      const watching: WatchedReleaseRecord[] = [];
      for (const row of rows) {
        const base = { appUuid: row.app_uuid, commit: row.commit, docHash: row.doc_hash };
        const where = `${TABLE}(${row.app_uuid}, ${row.role}).data`;
        if (row.role === 'confirmed')
          confirmed.push({ ...base, ...readJsonColumn(confirmedData, row.data, where) });
        else if (row.role === 'failed') {
          const data = readJsonColumn(failedData, row.data, where);
          failed.push({ ...base, ...data, service: data.service });
        } else if (row.role === 'watching')
          watching.push({ ...base, ...readJsonColumn(watchingData, row.data, where) });
      }
      return { confirmed, failed, watching };
    });
  }

  watch(record: WatchedReleaseRecord): Promise<void> {
    const { startedAt, deadline, restarts, exits } = record;
    return storeOperation(`watching release ${record.commit} of app ${record.appUuid}`, () =>
      this.upsert(this.knex, row(record, 'watching', { startedAt, deadline, restarts, exits })),
    );
  }

  confirm(record: ConfirmedReleaseRecord): Promise<void> {
    const { document, images, at } = record;
    return storeOperation(`confirming release ${record.commit} of app ${record.appUuid}`, () =>
      this.knex.transaction(async (trx) => {
        await trx<Row>(TABLE)
          .where({ app_uuid: record.appUuid })
          .whereIn('role', ['watching', 'failed'])
          .delete();
        await this.upsert(trx, row(record, 'confirmed', { document, images, at }));
      }),
    );
  }

  fail(record: FailedReleaseRecord): Promise<void> {
    const { reason, service, cause, at } = record;
    return storeOperation(`recording the failure of release ${record.commit}`, () =>
      this.knex.transaction(async (trx) => {
        await trx<Row>(TABLE).where({ app_uuid: record.appUuid, role: 'watching' }).delete();
        const data = service === undefined ? { reason, cause, at } : { reason, service, cause, at };
        await this.upsert(trx, row(record, 'failed', data));
      }),
    );
  }

  forget(appUuid: string, roles?: readonly ReleaseGuardRole[]): Promise<void> {
    return storeOperation(`forgetting the release guard of app ${appUuid}`, async () => {
      const query = this.knex<Row>(TABLE).where({ app_uuid: appUuid });
      if (roles !== undefined) void query.whereIn('role', [...roles]);
      await query.delete();
    });
  }

  private async upsert(knex: Knex, value: Row): Promise<void> {
    await knex<Row>(TABLE).insert(value).onConflict(['app_uuid', 'role']).merge();
  }
}

function row(
  record: { appUuid: string; commit: string; docHash: string },
  role: ReleaseGuardRole,
  data: object,
): Row {
  return {
    app_uuid: record.appUuid,
    role,
    commit: record.commit,
    doc_hash: record.docHash,
    data: JSON.stringify(data),
  };
}
