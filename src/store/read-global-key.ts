/**
 * Reads the device-wide API key straight from the database file, read-only, without migrating or
 * creating anything: what `bosun key` needs while the agent may be running (WAL lets a reader in) or
 * stopped. A missing file or key is an error that says how to get one, never a freshly made key.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { BosunError, errorMessage } from '../shared/errors.js';
import { SQLITE_ADDON_PATH } from '../shared/sqlite-addon.js';

export function readGlobalKey(dbPath: string): string {
  if (!existsSync(dbPath)) {
    throw new BosunError(
      'NOT_FOUND',
      `no database at ${dbPath}: start the agent once to create the device key (or set BOSUN_DATA_DIR / BOSUN_DB_PATH)`,
    );
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(dbPath, {
      readonly: true,
      fileMustExist: true,
      nativeBinding: SQLITE_ADDON_PATH,
    });
    db.pragma('busy_timeout = 5000');
    const row = db
      .prepare('select key from api_key where app_id = 0 and service_name = ?')
      .get('') as { key: string } | undefined;
    if (row === undefined)
      throw new BosunError(
        'NOT_FOUND',
        `the database ${dbPath} holds no device key yet: start the agent once`,
      );
    return row.key;
  } catch (err) {
    if (err instanceof BosunError) throw err;
    throw new BosunError(
      'STORE_ERROR',
      `cannot read the device key from ${dbPath}: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  } finally {
    db?.close();
  }
}
