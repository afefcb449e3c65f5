/** Target state per origin: device name/config in target_device, raw app documents in target_app. */
import type { Knex } from 'knex';
import type { Clock } from '../shared/clock.js';
import { readJsonColumn } from './json-column.js';
import { jsonObjectSchema, stringRecordSchema } from './json-schemas.js';
import type { JsonObject, StoredTarget, TargetOrigin, TargetStateRepository } from './ports.js';
import { storeOperation } from './store-error.js';

interface DeviceRow {
  origin: string;
  name: string;
  config: string;
  saved_at: string;
}

interface AppRow {
  origin: string;
  uuid: string;
  document: string;
}

/** 'local' or 'cloud:<endpoint>': the prefix keeps an endpoint from ever colliding with 'local'. */
export function originKey(origin: TargetOrigin): string {
  return origin.kind === 'local' ? 'local' : `cloud:${origin.endpoint}`;
}

export class SqliteTargetStateRepository implements TargetStateRepository {
  constructor(
    private readonly knex: Knex,
    private readonly clock: Clock,
  ) {}

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
        origin: key,
        uuid,
        document: JSON.stringify(document),
      }));
      return this.knex.transaction(async (trx) => {
        await trx<DeviceRow>('target_device').insert(device).onConflict('origin').merge();
        await trx<AppRow>('target_app').where({ origin: key }).delete();
        // Batched so a target with many apps stays under SQLite's bound-parameter limit.
        if (apps.length > 0) await trx.batchInsert('target_app', apps, 100);
      });
    });
  }

  load(origin: TargetOrigin): Promise<StoredTarget | undefined> {
    const key = originKey(origin);
    return storeOperation(`loading the ${key} target`, () =>
      // One read transaction, so a concurrent save cannot show a device row and apps from different targets.
      this.knex.transaction(async (trx) => {
        const device = await trx<DeviceRow>('target_device').where({ origin: key }).first();
        if (!device) return undefined;
        const rows = await trx<AppRow>('target_app').where({ origin: key }).orderBy('uuid');
        const apps: Record<string, JsonObject> = {};
        for (const row of rows) {
          apps[row.uuid] = readJsonColumn(
            jsonObjectSchema,
            row.document,
            `target_app(${key}, ${row.uuid}).document`,
          );
        }
        return {
          name: device.name,
          config: readJsonColumn(stringRecordSchema, device.config, `target_device(${key}).config`),
          apps,
        };
      }),
    );
  }

  isSet(origin?: TargetOrigin): Promise<boolean> {
    return storeOperation('checking for a stored target', async () => {
      const rows = this.knex<DeviceRow>('target_device').select('origin');
      const row = await (origin ? rows.where({ origin: originKey(origin) }) : rows).first();
      return row !== undefined;
    });
  }

  clear(origin: TargetOrigin): Promise<void> {
    const key = originKey(origin);
    return storeOperation(`clearing the ${key} target`, async () => {
      // target_app rows go with it (ON DELETE CASCADE).
      await this.knex<DeviceRow>('target_device').where({ origin: key }).delete();
    });
  }
}
