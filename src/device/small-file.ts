/**
 * Reads a small host file the agent does not control (boot partition, the host's /etc) without trusting
 * it: no following a symlink planted in its place, no blocking on a FIFO, nothing but a regular file,
 * and at most `limit` bytes so a huge file cannot fill memory.
 */
import { constants } from 'node:fs';
import { open, readlink } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';

export type SmallFileRead =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'unreadable'; readonly reason: string };

export interface SmallFileOptions {
  /**
   * Follow one relative symbolic link (Debian and balenaOS ship /etc/os-release as a link to
   * ../usr/lib/os-release). An absolute link is still refused: seen through a mount of the host's root
   * it would name a file of the agent's own container instead.
   */
  followRelativeLink?: boolean;
}

export async function readSmallFile(
  path: string,
  limit: number,
  options: SmallFileOptions = {},
): Promise<SmallFileRead> {
  const first = await readNoFollow(path, limit);
  if (first.kind !== 'link' || options.followRelativeLink !== true)
    return first.kind === 'link' ? { kind: 'unreadable', reason: 'it is a symbolic link' } : first;
  let target: string;
  try {
    target = await readlink(path);
  } catch (err) {
    return { kind: 'unreadable', reason: (err as Error).message };
  }
  if (isAbsolute(target))
    return { kind: 'unreadable', reason: `it is a link to an absolute path (${target})` };
  const second = await readNoFollow(join(dirname(path), target), limit);
  return second.kind === 'link' ? { kind: 'unreadable', reason: 'it is a link to a link' } : second;
}

async function readNoFollow(
  path: string,
  limit: number,
): Promise<SmallFileRead | { readonly kind: 'link' }> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    if (code === 'ELOOP') return { kind: 'link' };
    return { kind: 'unreadable', reason: (err as Error).message };
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return { kind: 'unreadable', reason: 'it is not a regular file' };
    if (stat.size > limit)
      return { kind: 'unreadable', reason: `it is ${stat.size} bytes, more than ${limit}` };
    const buffer = Buffer.alloc(limit + 1);
    const { bytesRead } = await handle.read(buffer, 0, limit + 1, 0);
    if (bytesRead > limit) return { kind: 'unreadable', reason: `it is more than ${limit} bytes` };
    return { kind: 'text', text: buffer.subarray(0, bytesRead).toString('utf8') };
  } catch (err) {
    return { kind: 'unreadable', reason: (err as Error).message };
  } finally {
    await handle.close();
  }
}
