/**
 * The database holds the API keys, so its files are private to the agent's user: 0600 for the database,
 * its -wal and -shm, and its backups, whatever mode they had before (an older bosun created them 0644).
 * SQLite gives -wal and -shm the mode of the database file when it creates them, so making the database
 * private before the first open covers the files SQLite makes later too.
 */
import { chmod, open } from 'node:fs/promises';

export const PRIVATE_FILE_MODE = 0o600;
const SIDE_FILES = ['-wal', '-shm', '-journal'];

function isMissing(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === 'ENOENT';
}

/** chmod 0600, ignoring a file that does not exist. */
export async function makePrivate(path: string): Promise<void> {
  try {
    await chmod(path, PRIVATE_FILE_MODE);
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
}

/** Creates the database file 0600 when missing, and makes it and its side files 0600. */
export async function makeDatabaseFilesPrivate(dbPath: string): Promise<void> {
  // 'a' creates without truncating; the mode applies only to a new file (and the umask may narrow it).
  const file = await open(dbPath, 'a', PRIVATE_FILE_MODE);
  try {
    await file.chmod(PRIVATE_FILE_MODE);
  } finally {
    await file.close();
  }
  for (const suffix of SIDE_FILES) await makePrivate(`${dbPath}${suffix}`);
}
