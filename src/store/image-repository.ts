/** Images bosun pulled; clean-up consults this so it never removes an image a user made by hand. */
import type { Knex } from 'knex';
import type { ImageRepository, SupervisedImage, SupervisedImageKey } from './ports.js';
import { storeOperation } from './store-error.js';

interface ImageRow {
  id: number;
  name: string;
  engine_id: string | null;
  app_uuid: string;
  service_name: string;
  commit: string;
}

function keyColumns(
  key: SupervisedImageKey,
): Pick<ImageRow, 'name' | 'app_uuid' | 'service_name' | 'commit'> {
  return {
    name: key.name,
    app_uuid: key.appUuid,
    service_name: key.serviceName,
    commit: key.commit,
  };
}

export class SqliteImageRepository implements ImageRepository {
  constructor(private readonly knex: Knex) {}

  record(image: SupervisedImage): Promise<void> {
    return storeOperation(`recording image ${image.name}`, async () => {
      await this.knex<ImageRow>('image')
        .insert({ ...keyColumns(image), engine_id: image.engineId ?? null })
        .onConflict(['name', 'app_uuid', 'service_name', 'commit'])
        .merge(['engine_id']);
    });
  }

  list(): Promise<SupervisedImage[]> {
    return storeOperation('listing supervised images', async () => {
      const rows = await this.knex<ImageRow>('image').select('*').orderBy('id');
      return rows.map((row) => ({
        name: row.name,
        engineId: row.engine_id ?? undefined,
        appUuid: row.app_uuid,
        serviceName: row.service_name,
        commit: row.commit,
      }));
    });
  }

  remove(key: SupervisedImageKey): Promise<void> {
    return storeOperation(`forgetting image ${key.name}`, async () => {
      await this.knex<ImageRow>('image').where(keyColumns(key)).delete();
    });
  }

  isSupervised(engineId: string): Promise<boolean> {
    return storeOperation(`checking image ${engineId}`, async () => {
      const row = await this.knex<ImageRow>('image')
        .select('id')
        .where({ engine_id: engineId })
        .first();
      return row !== undefined;
    });
  }
}
