/** The release guard's rows (migration 0002): one per app and role, the role's fields as JSON. */
import type Database from 'better-sqlite3';
import * as z from 'zod';
import { lazy } from '../shared/lazy.js';
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
import { preparedStatements } from './sqlite-database.js';
import { storeOperation } from './store-error.js';

const TABLE = 'release_guard';

// "commit" is an SQL keyword: quoted wherever it names the column.
const SQL = {
  all: `select app_uuid, role, "commit", doc_hash, data from ${TABLE} order by app_uuid, role`,
  upsert:
    `insert into ${TABLE} (app_uuid, role, "commit", doc_hash, data) values (?, ?, ?, ?, ?) ` +
    'on conflict (app_uuid, role) do update set ' +
    '"commit" = excluded."commit", doc_hash = excluded.doc_hash, data = excluded.data',
  deleteRole: `delete from ${TABLE} where app_uuid = ? and role = ?`,
  deleteApp: `delete from ${TABLE} where app_uuid = ?`,
};

interface Row {
  app_uuid: string;
  role: ReleaseGuardRole;
  commit: string;
  doc_hash: string;
  data: string;
}

const confirmedData = lazy(() =>
  z.object({
    document: jsonObjectSchema,
    images: z.array(z.string()),
    at: z.number(),
  }),
);
const failedData = lazy(() =>
  z.object({
    reason: z.string(),
    service: z.string().optional(),
    cause: z.enum(['unhealthy', 'crashLoop', 'notRunning']),
    at: z.number(),
  }),
);
const watchingData = lazy(() =>
  z.object({
    startedAt: z.number(),
    deadline: z.number(),
    restarts: z.record(z.string(), z.number()),
    exits: z.record(z.string(), z.array(z.string())),
  }),
);

export class SqliteReleaseGuardRepository implements ReleaseGuardRepository {
  private readonly sql;
  private readonly replaceRoles;
  private readonly forgetRoles;

  constructor(db: Database.Database) {
    const sql = preparedStatements(db, SQL);
    this.sql = sql;
    // In one transaction: the given roles of the app are forgotten and the new row written.
    this.replaceRoles = db.transaction((value: Row, forgotten: readonly ReleaseGuardRole[]) => {
      for (const role of forgotten) sql('deleteRole').run(value.app_uuid, role);
      upsert(sql, value);
    });
    // One transaction, like the single statement it stands for.
    this.forgetRoles = db.transaction((appUuid: string, roles: readonly ReleaseGuardRole[]) => {
      for (const role of new Set(roles)) sql('deleteRole').run(appUuid, role);
    });
  }

  load(): Promise<ReleaseGuardState> {
    return storeOperation('loading the release guard', () => {
      const rows = this.sql('all').all() as Row[];
      const confirmed: ConfirmedReleaseRecord[] = [];
      const failed: FailedReleaseRecord[] = [];
      const watching: WatchedReleaseRecord[] = [];
      for (const row of rows) {
        const base = { appUuid: row.app_uuid, commit: row.commit, docHash: row.doc_hash };
        const where = `${TABLE}(${row.app_uuid}, ${row.role}).data`;
        if (row.role === 'confirmed')
          confirmed.push({ ...base, ...readJsonColumn(confirmedData(), row.data, where) });
        else if (row.role === 'failed') {
          const data = readJsonColumn(failedData(), row.data, where);
          failed.push({ ...base, ...data, service: data.service });
        } else if (row.role === 'watching')
          watching.push({ ...base, ...readJsonColumn(watchingData(), row.data, where) });
      }
      return { confirmed, failed, watching };
    });
  }

  watch(record: WatchedReleaseRecord): Promise<void> {
    const { startedAt, deadline, restarts, exits } = record;
    return storeOperation(`watching release ${record.commit} of app ${record.appUuid}`, () =>
      upsert(this.sql, row(record, 'watching', { startedAt, deadline, restarts, exits })),
    );
  }

  confirm(record: ConfirmedReleaseRecord): Promise<void> {
    const { document, images, at } = record;
    return storeOperation(`confirming release ${record.commit} of app ${record.appUuid}`, () =>
      this.replaceRoles(row(record, 'confirmed', { document, images, at }), ['watching', 'failed']),
    );
  }

  fail(record: FailedReleaseRecord): Promise<void> {
    const { reason, service, cause, at } = record;
    return storeOperation(`recording the failure of release ${record.commit}`, () => {
      const data = service === undefined ? { reason, cause, at } : { reason, service, cause, at };
      this.replaceRoles(row(record, 'failed', data), ['watching']);
    });
  }

  forget(appUuid: string, roles?: readonly ReleaseGuardRole[]): Promise<void> {
    return storeOperation(`forgetting the release guard of app ${appUuid}`, () => {
      if (roles === undefined) this.sql('deleteApp').run(appUuid);
      else this.forgetRoles(appUuid, roles);
    });
  }
}

function upsert(sql: (name: keyof typeof SQL) => Database.Statement, value: Row): void {
  sql('upsert').run(value.app_uuid, value.role, value.commit, value.doc_hash, value.data);
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
