/** The commit each app was last fully applied at. */
import type Database from 'better-sqlite3';
import type { Clock } from '../shared/clock.js';
import type { CommitRepository } from './ports.js';
import { preparedStatements } from './sqlite-database.js';
import { storeOperation } from './store-error.js';

interface CommitRow {
  app_uuid: string;
  commit: string;
}

// "commit" is an SQL keyword: quoted wherever it names the column.
const SQL = {
  get: 'select "commit" from current_commit where app_uuid = ?',
  upsert:
    'insert into current_commit (app_uuid, "commit", updated_at) values (?, ?, ?) ' +
    'on conflict (app_uuid) do update set "commit" = excluded."commit", updated_at = excluded.updated_at',
  all: 'select app_uuid, "commit" from current_commit order by app_uuid',
  remove: 'delete from current_commit where app_uuid = ?',
};

export class SqliteCommitRepository implements CommitRepository {
  private readonly sql;

  constructor(
    db: Database.Database,
    private readonly clock: Clock,
  ) {
    this.sql = preparedStatements(db, SQL);
  }

  get(appUuid: string): Promise<string | undefined> {
    return storeOperation(
      `reading the commit of app ${appUuid}`,
      () => (this.sql('get').get(appUuid) as Pick<CommitRow, 'commit'> | undefined)?.commit,
    );
  }

  set(appUuid: string, commit: string): Promise<void> {
    return storeOperation(`recording commit ${commit} of app ${appUuid}`, () => {
      this.sql('upsert').run(appUuid, commit, new Date(this.clock.now()).toISOString());
    });
  }

  all(): Promise<Record<string, string>> {
    return storeOperation('reading current commits', () =>
      Object.fromEntries(
        (this.sql('all').all() as CommitRow[]).map((row) => [row.app_uuid, row.commit]),
      ),
    );
  }

  remove(appUuid: string): Promise<void> {
    return storeOperation(`forgetting the commit of app ${appUuid}`, () => {
      this.sql('remove').run(appUuid);
    });
  }
}
