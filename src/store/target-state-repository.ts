/** Target state per origin: device name/config in target_device, raw app documents in target_app. */
import type Database from 'better-sqlite3';
import type { Clock } from '../shared/clock.js';
import { readJsonColumn } from './json-column.js';
import { jsonObjectSchema, stringRecordSchema } from './json-schemas.js';
import type { JsonObject, StoredTarget, TargetOrigin, TargetStateRepository } from './ports.js';
import { preparedStatements } from './sqlite-database.js';
import { storeOperation } from './store-error.js';

interface DeviceRow {
  origin: string;
  name: string;
  config: string;
  saved_at: string;
}

interface AppRow {
  uuid: string;
  document: string;
}

const SQL = {
  upsertDevice:
    'insert into target_device (origin, name, config, saved_at) values (?, ?, ?, ?) ' +
    'on conflict (origin) do update set name = excluded.name, config = excluded.config, saved_at = excluded.saved_at',
  deleteApps: 'delete from target_app where origin = ?',
  insertApp: 'insert into target_app (origin, uuid, document) values (?, ?, ?)',
  device: 'select origin, name, config, saved_at from target_device where origin = ?',
  apps: 'select uuid, document from target_app where origin = ? order by uuid',
  anyDevice: 'select 1 from target_device limit 1',
  deviceExists: 'select 1 from target_device where origin = ?',
  deleteDevice: 'delete from target_device where origin = ?',
};

/** 'local' or 'cloud:<endpoint>': the prefix keeps an endpoint from ever colliding with 'local'. */
export function originKey(origin: TargetOrigin): string {
  return origin.kind === 'local' ? 'local' : `cloud:${origin.endpoint}`;
}

export class SqliteTargetStateRepository implements TargetStateRepository {
  private readonly sql;
  private readonly replace;
  private readonly read;

  constructor(
    db: Database.Database,
    private readonly clock: Clock,
  ) {
    const sql = preparedStatements(db, SQL);
    this.sql = sql;
    // One transaction: a crash leaves the old target or the new one, never a mix.
    this.replace = db.transaction((device: DeviceRow, apps: readonly AppRow[]) => {
      sql('upsertDevice').run(device.origin, device.name, device.config, device.saved_at);
      sql('deleteApps').run(device.origin);
      for (const app of apps) sql('insertApp').run(device.origin, app.uuid, app.document);
    });
    // One read transaction, so the device row and its apps come from the same committed target.
    this.read = db.transaction((key: string) => {
      const device = sql('device').get(key) as DeviceRow | undefined;
      if (device === undefined) return undefined;
      return { device, apps: sql('apps').all(key) as AppRow[] };
    });
  }

  save(origin: TargetOrigin, target: StoredTarget): Promise<void> {
    const key = originKey(origin);
    return storeOperation(`saving the ${key} target`, () => {
      // Serialised before the transaction: a value JSON cannot hold fails before anything is written.
      const device: DeviceRow = {
        origin: key,
        name: target.name,
        config: JSON.stringify(target.config),
        saved_at: new Date(this.clock.now()).toISOString(),
      };
      const apps: AppRow[] = Object.entries(target.apps).map(([uuid, document]) => ({
        uuid,
        document: JSON.stringify(document),
      }));
      this.replace(device, apps);
    });
  }

  load(origin: TargetOrigin): Promise<StoredTarget | undefined> {
    const key = originKey(origin);
    return storeOperation(`loading the ${key} target`, () => {
      const found = this.read(key);
      if (found === undefined) return undefined;
      const apps: Record<string, JsonObject> = {};
      for (const row of found.apps) {
        apps[row.uuid] = readJsonColumn(
          jsonObjectSchema,
          row.document,
          `target_app(${key}, ${row.uuid}).document`,
        );
      }
      return {
        name: found.device.name,
        config: readJsonColumn(
          stringRecordSchema,
          found.device.config,
          `target_device(${key}).config`,
        ),
        apps,
      };
    });
  }

  isSet(origin?: TargetOrigin): Promise<boolean> {
    return storeOperation('checking for a stored target', () => {
      const row = origin
        ? this.sql('deviceExists').get(originKey(origin))
        : this.sql('anyDevice').get();
      return row !== undefined;
    });
  }

  clear(origin: TargetOrigin): Promise<void> {
    const key = originKey(origin);
    return storeOperation(`clearing the ${key} target`, () => {
      // target_app rows go with it (ON DELETE CASCADE).
      this.sql('deleteDevice').run(key);
    });
  }
}
