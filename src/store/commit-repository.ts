/** The commit each app was last fully applied at. */
import type { Knex } from 'knex';
import type { Clock } from '../shared/clock.js';
import type { CommitRepository } from './ports.js';
import { storeOperation } from './store-error.js';

interface CommitRow {
  app_uuid: string;
  commit: string;
  updated_at: string;
}

export class SqliteCommitRepository implements CommitRepository {
  constructor(
    private readonly knex: Knex,
    private readonly clock: Clock,
  ) {}

  get(appUuid: string): Promise<string | undefined> {
    return storeOperation(`reading the commit of app ${appUuid}`, async () => {
      const row = await this.knex<CommitRow>('current_commit').where({ app_uuid: appUuid }).first();
      return row?.commit;
    });
  }

  set(appUuid: string, commit: string): Promise<void> {
    return storeOperation(`recording commit ${commit} of app ${appUuid}`, async () => {
      await this.knex<CommitRow>('current_commit')
        .insert({ app_uuid: appUuid, commit, updated_at: new Date(this.clock.now()).toISOString() })
        .onConflict('app_uuid')
        .merge();
    });
  }

  all(): Promise<Record<string, string>> {
    return storeOperation('reading current commits', async () => {
      const rows = await this.knex<CommitRow>('current_commit')
        .select('app_uuid', 'commit')
        .orderBy('app_uuid');
      return Object.fromEntries(rows.map((row) => [row.app_uuid, row.commit]));
    });
  }

  remove(appUuid: string): Promise<void> {
    return storeOperation(`forgetting the commit of app ${appUuid}`, async () => {
      await this.knex<CommitRow>('current_commit').where({ app_uuid: appUuid }).delete();
    });
  }
}
