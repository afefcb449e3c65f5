/**
 * One entry of a service's lock directory, judged without trusting it. The directory is bind-mounted
 * writable into the app's containers, so whatever sits at `updates.lock` may be a symlink to `/dev/zero`
 * or to a host file, a FIFO nobody writes to, a directory, a device node or a socket. The rules:
 * - lstat, never stat: a link is judged as a link, its target is never touched;
 * - only a regular file is opened, with O_NOFOLLOW | O_NONBLOCK (the entry may be swapped between the
 *   lstat and the open: a link then fails with ELOOP, a FIFO opens without blocking), and the opened
 *   descriptor is fstat'ed again so a swap is seen; at most `maxBytes` are read;
 * - removal unlinks (or, for a directory, removes the tree without following any link in it).
 */
import { constants as fsConstants, type Stats } from 'node:fs';
import { lstat, open, rm, unlink } from 'node:fs/promises';

export type LockEntryKind =
  'missing' | 'file' | 'symlink' | 'directory' | 'fifo' | 'socket' | 'device' | 'unreadable';

export type LockEntry =
  | { kind: 'missing' }
  | { kind: 'file'; uid: number; head: string }
  | { kind: 'symlink' | 'directory' | 'fifo' | 'socket' | 'device' }
  | { kind: 'unreadable'; reason: string };

const READ_FLAGS = fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK;

function kindOf(info: Stats): Exclude<LockEntryKind, 'missing' | 'unreadable'> {
  if (info.isFile()) return 'file';
  if (info.isSymbolicLink()) return 'symlink';
  if (info.isDirectory()) return 'directory';
  if (info.isFIFO()) return 'fifo';
  if (info.isSocket()) return 'socket';
  return 'device';
}

/** What is at `path`; reads at most `maxBytes` of a regular file (default 0: no read at all). */
export async function inspectLockEntry(path: string, maxBytes = 0): Promise<LockEntry> {
  let info: Stats;
  try {
    info = await lstat(path);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return { kind: 'missing' };
    return { kind: 'unreadable', reason: errnoOf(err) ?? String(err) };
  }
  const kind = kindOf(info);
  if (kind !== 'file') return { kind };
  if (maxBytes === 0) return { kind, uid: info.uid, head: '' };
  let handle;
  try {
    handle = await open(path, READ_FLAGS);
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'ENOENT') return { kind: 'missing' };
    // ELOOP: it became a link after the lstat.
    return code === 'ELOOP' ? { kind: 'symlink' } : { kind: 'unreadable', reason: code ?? 'open' };
  }
  try {
    const opened = await handle.stat();
    const openedKind = kindOf(opened);
    if (openedKind !== 'file') return { kind: openedKind };
    const buffer = Buffer.alloc(maxBytes);
    const { bytesRead } = await handle.read(buffer, 0, maxBytes, 0);
    return { kind: 'file', uid: opened.uid, head: buffer.toString('utf8', 0, bytesRead) };
  } catch (err) {
    return { kind: 'unreadable', reason: errnoOf(err) ?? 'read' };
  } finally {
    await handle.close();
  }
}

/**
 * Removes whatever is at `path` without following links: a file, link, FIFO, socket or device node is
 * unlinked (the link itself, never its target); a directory is removed with its contents, and Node's
 * recursive rm lstat's every entry and unlinks links inside rather than descending into them.
 */
export async function removeLockEntry(path: string): Promise<void> {
  const entry = await inspectLockEntry(path);
  if (entry.kind === 'missing') return;
  try {
    if (entry.kind === 'directory') await rm(path, { recursive: true, force: true });
    else await unlink(path);
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') throw err;
  }
}

function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}
