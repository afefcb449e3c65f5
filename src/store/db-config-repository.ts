/** DB-sourced settings as a typed key/value table; values are JSON so they keep their type. */
import type Database from 'better-sqlite3';
import { BosunError } from '../shared/errors.js';
import { DB_CONFIG_SCHEMA } from './db-config-schema.js';
import { readJsonColumn } from './json-column.js';
import type { DbConfigKey, DbConfigRepository, DbConfigValues } from './ports.js';
import { preparedStatements } from './sqlite-database.js';
import { storeOperation } from './store-error.js';

const SQL = {
  get: 'select "value" from config where "key" = ?',
  upsert:
    'insert into config ("key", "value") values (?, ?) ' +
    'on conflict ("key") do update set "value" = excluded."value"',
  remove: 'delete from config where "key" = ?',
};

export class SqliteDbConfigRepository implements DbConfigRepository {
  private readonly sql;

  constructor(db: Database.Database) {
    this.sql = preparedStatements(db, SQL);
  }

  get<K extends DbConfigKey>(key: K): Promise<DbConfigValues[K] | undefined> {
    return storeOperation(`reading setting ${key}`, () => {
      const row = this.sql('get').get(key) as { value: string } | undefined;
      if (!row) return undefined;
      return readJsonColumn(DB_CONFIG_SCHEMA[key], row.value, `config(${key})`);
    });
  }

  set<K extends DbConfigKey>(key: K, value: DbConfigValues[K]): Promise<void> {
    return storeOperation(`writing setting ${key}`, () => {
      // Validated on write too, so a caller bypassing the types cannot store what get() would reject.
      const checked = DB_CONFIG_SCHEMA[key].safeParse(value);
      if (!checked.success) {
        throw new BosunError(
          'VALIDATION_FAILED',
          `setting ${key}: ${checked.error.issues[0]?.message ?? 'invalid value'}`,
        );
      }
      this.sql('upsert').run(key, JSON.stringify(checked.data));
    });
  }

  remove(key: DbConfigKey): Promise<void> {
    return storeOperation(`removing setting ${key}`, () => {
      this.sql('remove').run(key);
    });
  }
}
