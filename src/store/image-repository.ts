/** Images bosun pulled; clean-up consults this so it never removes an image a user made by hand. */
import type Database from 'better-sqlite3';
import type { ImageRepository, SupervisedImage, SupervisedImageKey } from './ports.js';
import { preparedStatements } from './sqlite-database.js';
import { storeOperation } from './store-error.js';

interface ImageRow {
  id: number;
  name: string;
  engine_id: string | null;
  app_uuid: string;
  service_name: string;
  commit: string;
}

// "commit" is an SQL keyword: quoted wherever it names the column.
const SQL = {
  upsert:
    'insert into image (name, app_uuid, service_name, "commit", engine_id) values (?, ?, ?, ?, ?) ' +
    'on conflict (name, app_uuid, service_name, "commit") do update set engine_id = excluded.engine_id',
  list: 'select id, name, engine_id, app_uuid, service_name, "commit" from image order by id',
  remove: 'delete from image where name = ? and app_uuid = ? and service_name = ? and "commit" = ?',
  withEngineId: 'select id from image where engine_id = ? limit 1',
};

function keyValues(key: SupervisedImageKey): [string, string, string, string] {
  return [key.name, key.appUuid, key.serviceName, key.commit];
}

export class SqliteImageRepository implements ImageRepository {
  private readonly sql;

  constructor(db: Database.Database) {
    this.sql = preparedStatements(db, SQL);
  }

  record(image: SupervisedImage): Promise<void> {
    return storeOperation(`recording image ${image.name}`, () => {
      this.sql('upsert').run(...keyValues(image), image.engineId ?? null);
    });
  }

  list(): Promise<SupervisedImage[]> {
    return storeOperation('listing supervised images', () =>
      (this.sql('list').all() as ImageRow[]).map((row) => ({
        name: row.name,
        engineId: row.engine_id ?? undefined,
        appUuid: row.app_uuid,
        serviceName: row.service_name,
        commit: row.commit,
      })),
    );
  }

  remove(key: SupervisedImageKey): Promise<void> {
    return storeOperation(`forgetting image ${key.name}`, () => {
      this.sql('remove').run(...keyValues(key));
    });
  }

  isSupervised(engineId: string): Promise<boolean> {
    return storeOperation(
      `checking image ${engineId}`,
      () => this.sql('withEngineId').get(engineId) !== undefined,
    );
  }
}
