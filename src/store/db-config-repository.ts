/** DB-sourced settings as a typed key/value table; values are JSON so they keep their type. */
import type { Knex } from 'knex';
import { BosunError } from '../shared/errors.js';
import { DB_CONFIG_SCHEMA } from './db-config-schema.js';
import { readJsonColumn } from './json-column.js';
import type { DbConfigKey, DbConfigRepository, DbConfigValues } from './ports.js';
import { storeOperation } from './store-error.js';

interface ConfigRow {
  key: string;
  value: string;
}

export class SqliteDbConfigRepository implements DbConfigRepository {
  constructor(private readonly knex: Knex) {}

  get<K extends DbConfigKey>(key: K): Promise<DbConfigValues[K] | undefined> {
    return storeOperation(`reading setting ${key}`, async () => {
      const row = await this.knex<ConfigRow>('config').where({ key }).first();
      if (!row) return undefined;
      return readJsonColumn(DB_CONFIG_SCHEMA[key], row.value, `config(${key})`);
    });
  }

  set<K extends DbConfigKey>(key: K, value: DbConfigValues[K]): Promise<void> {
    return storeOperation(`writing setting ${key}`, async () => {
      // Validated on write too, so a caller bypassing the types cannot store what get() would reject.
      const checked = DB_CONFIG_SCHEMA[key].safeParse(value);
      if (!checked.success) {
        throw new BosunError(
          'VALIDATION_FAILED',
          `setting ${key}: ${checked.error.issues[0]?.message ?? 'invalid value'}`,
        );
      }
      await this.knex<ConfigRow>('config')
        .insert({ key, value: JSON.stringify(checked.data) })
        .onConflict('key')
        .merge();
    });
  }

  remove(key: DbConfigKey): Promise<void> {
    return storeOperation(`removing setting ${key}`, async () => {
      await this.knex<ConfigRow>('config').where({ key }).delete();
    });
  }
}
