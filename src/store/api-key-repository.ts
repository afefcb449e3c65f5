/**
 * Local API keys: one device-wide key (app 0, scope global) and one key per (app, service) that asks for
 * the supervisor API (scope app). Keys are 32 hex chars, like balena's, so containers see the same format.
 */
import { nodeCrypto } from '../shared/node-crypto.js';
import type Database from 'better-sqlite3';
import * as z from 'zod';
import { BosunError } from '../shared/errors.js';
import { readJsonColumn } from './json-column.js';
import type { ApiKey, ApiKeyRepository, ApiKeyScope } from './ports.js';
import { preparedStatements } from './sqlite-database.js';
import { storeOperation } from './store-error.js';

interface ApiKeyRow {
  key: string;
  app_id: number;
  /** '' for the device-wide key. */
  service_name: string;
  scopes: string;
}

const GLOBAL_APP_ID = 0;

// "key" is an SQL keyword: quoted wherever it names the column. The device-wide key's app id 0 is
// never an app's.
const SQL = {
  ofService: 'select "key" from api_key where app_id = ? and service_name = ?',
  find: 'select "key", app_id, service_name, scopes from api_key where "key" = ?',
  regenerate: 'update api_key set "key" = ? where "key" = ?',
  removeApp: `delete from api_key where app_id = ? and app_id <> ${GLOBAL_APP_ID}`,
  appIds: `select distinct app_id from api_key where app_id <> ${GLOBAL_APP_ID}`,
  insertIfAbsent:
    'insert into api_key ("key", app_id, service_name, scopes) values (?, ?, ?, ?) ' +
    'on conflict (app_id, service_name) do nothing',
};

const scopesSchema = z.array(
  z.discriminatedUnion('type', [
    z.object({ type: z.literal('global') }),
    z.object({ type: z.literal('app'), appId: z.int() }),
  ]),
);

function generateKey(): string {
  return nodeCrypto().randomBytes(16).toString('hex');
}

export class SqliteApiKeyRepository implements ApiKeyRepository {
  private readonly sql;
  private readonly getOrCreate;

  constructor(db: Database.Database) {
    const sql = preparedStatements(db, SQL);
    this.sql = sql;
    // Read, else insert-if-absent then read, in one transaction, so two callers never end up with
    // different keys. A key is drawn only when none is stored (node:crypto loads on first use).
    this.getOrCreate = db.transaction(
      (appId: number, serviceName: string, scopes: ApiKeyScope[]): string => {
        const stored = sql('ofService').get(appId, serviceName) as
          Pick<ApiKeyRow, 'key'> | undefined;
        if (stored) return stored.key;
        sql('insertIfAbsent').run(generateKey(), appId, serviceName, JSON.stringify(scopes));
        const row = sql('ofService').get(appId, serviceName) as Pick<ApiKeyRow, 'key'> | undefined;
        if (!row)
          throw new BosunError(
            'INTERNAL',
            `API key for app ${appId} vanished right after it was written`,
          );
        return row.key;
      },
    );
  }

  globalKey(): Promise<string> {
    return storeOperation('reading the device API key', () =>
      this.getOrCreate(GLOBAL_APP_ID, '', [{ type: 'global' }]),
    );
  }

  appKey(appId: number, serviceName: string): Promise<string> {
    if (!Number.isInteger(appId) || appId <= 0 || serviceName === '') {
      return Promise.reject(
        new BosunError(
          'VALIDATION_FAILED',
          `an app API key needs an appId ≥ 1 and a service name (got ${appId}, '${serviceName}')`,
        ),
      );
    }
    return storeOperation(`reading the API key of app ${appId} service ${serviceName}`, () =>
      this.getOrCreate(appId, serviceName, [{ type: 'app', appId }]),
    );
  }

  peekAppKey(appId: number, serviceName: string): Promise<string | undefined> {
    return storeOperation(
      `reading the API key of app ${appId} service ${serviceName}`,
      () =>
        (this.sql('ofService').get(appId, serviceName) as Pick<ApiKeyRow, 'key'> | undefined)?.key,
    );
  }

  find(key: string): Promise<ApiKey | undefined> {
    return storeOperation('looking up an API key', () => {
      const row = this.sql('find').get(key) as ApiKeyRow | undefined;
      if (!row) return undefined;
      return {
        key: row.key,
        appId: row.app_id,
        serviceName: row.service_name === '' ? undefined : row.service_name,
        scopes: readJsonColumn(scopesSchema, row.scopes, `api_key(app ${row.app_id}).scopes`),
      };
    });
  }

  regenerate(key: string): Promise<string | undefined> {
    return storeOperation('regenerating an API key', () => {
      const fresh = generateKey();
      const changed = this.sql('regenerate').run(fresh, key).changes;
      return changed > 0 ? fresh : undefined;
    });
  }

  removeAppKeys(appId: number): Promise<void> {
    return storeOperation(`removing the API keys of app ${appId}`, () => {
      this.sql('removeApp').run(appId);
    });
  }

  appIdsWithKeys(): Promise<number[]> {
    return storeOperation('listing the apps that hold API keys', () =>
      (this.sql('appIds').all() as Pick<ApiKeyRow, 'app_id'>[]).map((r) => r.app_id),
    );
  }
}
