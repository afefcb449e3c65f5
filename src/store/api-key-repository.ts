/**
 * Local API keys: one device-wide key (app 0, scope global) and one key per (app, service) that asks for
 * the supervisor API (scope app). Keys are 32 hex chars, like balena's, so containers see the same format.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import { BosunError } from '../shared/errors.js';
import { readJsonColumn } from './json-column.js';
import type { ApiKey, ApiKeyRepository, ApiKeyScope } from './ports.js';
import { storeOperation } from './store-error.js';

interface ApiKeyRow {
  key: string;
  app_id: number;
  /** '' for the device-wide key. */
  service_name: string;
  scopes: string;
}

const GLOBAL_APP_ID = 0;

const scopesSchema = z.array(
  z.discriminatedUnion('type', [
    z.object({ type: z.literal('global') }),
    z.object({ type: z.literal('app'), appId: z.int() }),
  ]),
);

function generateKey(): string {
  return randomBytes(16).toString('hex');
}

export class SqliteApiKeyRepository implements ApiKeyRepository {
  constructor(private readonly knex: Knex) {}

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
      async () => {
        const row = await this.knex<ApiKeyRow>('api_key')
          .where({ app_id: appId, service_name: serviceName })
          .first();
        return row?.key;
      },
    );
  }

  find(key: string): Promise<ApiKey | undefined> {
    return storeOperation('looking up an API key', async () => {
      const row = await this.knex<ApiKeyRow>('api_key').where({ key }).first();
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
    return storeOperation('regenerating an API key', async () => {
      const fresh = generateKey();
      const changed = await this.knex<ApiKeyRow>('api_key').where({ key }).update({ key: fresh });
      return changed > 0 ? fresh : undefined;
    });
  }

  removeAppKeys(appId: number): Promise<void> {
    return storeOperation(`removing the API keys of app ${appId}`, async () => {
      await this.knex<ApiKeyRow>('api_key')
        .where({ app_id: appId })
        .whereNot({ app_id: GLOBAL_APP_ID })
        .delete();
    });
  }

  appIdsWithKeys(): Promise<number[]> {
    return storeOperation('listing the apps that hold API keys', async () => {
      const rows = await this.knex<ApiKeyRow>('api_key')
        .distinct('app_id')
        .whereNot({ app_id: GLOBAL_APP_ID });
      return rows.map((r) => r.app_id);
    });
  }

  /** Insert-if-absent then read, in one transaction, so two callers never end up with different keys. */
  private getOrCreate(appId: number, serviceName: string, scopes: ApiKeyScope[]): Promise<string> {
    return this.knex.transaction(async (trx) => {
      await trx<ApiKeyRow>('api_key')
        .insert({
          key: generateKey(),
          app_id: appId,
          service_name: serviceName,
          scopes: JSON.stringify(scopes),
        })
        .onConflict(['app_id', 'service_name'])
        .ignore();
      const row = await trx<ApiKeyRow>('api_key')
        .where({ app_id: appId, service_name: serviceName })
        .first();
      if (!row)
        throw new BosunError(
          'INTERNAL',
          `API key for app ${appId} vanished right after it was written`,
        );
      return row.key;
    });
  }
}
