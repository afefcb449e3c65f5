/**
 * Replaces a file so that a crash at any moment leaves either the old content or the new, never a
 * mix: write a temp file in the same directory, fsync it, rename it over the target, fsync the
 * directory (so the rename itself survives a power cut).
 */
import { nodeCrypto } from '../shared/node-crypto.js';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const dir = dirname(path);
  const temp = join(
    dir,
    `.${basename(path)}.${process.pid}.${nodeCrypto().randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    const file = await open(temp, 'wx', mode);
    try {
      // open() applies the umask; the file must end up with exactly the mode asked for.
      await file.chmod(mode);
      await file.writeFile(data, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
