/**
 * Node's on-disk cache of compiled code (module.enableCompileCache, Node ≥ 22.1): a later start reads
 * V8's compiled form of the agent's ~3 MB bundle instead of compiling it again (BENCHMARKS.md, "Node
 * lines"). The cache lives in a directory the agent owns: BOSUN_COMPILE_CACHE, else
 * `<dataDir>/compile-cache`; `off` switches it off. It is an optimisation and nothing more: a Node line
 * without the API, a directory that cannot be made or written, or entries that are corrupt or stale (Node
 * checks each entry's checksum and the source's hash, and compiles afresh when they do not match) leave
 * the agent starting as it would without it. Never fatal, never thrown.
 *
 * Node never removes entries, and each new bundle (chunk names carry a content hash) or Node version
 * adds its own, so once the agent is up, `settleCompileCache` keeps the directory bounded and writes the
 * entries of this start (a daemon seldom exits in the way that makes Node write them by itself).
 */
import { readdir, rm, stat } from 'node:fs/promises';
import * as nodeModule from 'node:module';
import { join } from 'node:path';
import type { Logger } from '../shared/logger.js';
import { resolvePaths, type Env } from './agent-settings.js';

/** The part of node:module this uses; absent on Node 20 (the types of the oldest line are installed). */
export interface CompileCacheRuntime {
  enableCompileCache?: (directory?: string) => {
    status: number;
    message?: string;
    directory?: string;
  };
  flushCompileCache?: () => void;
  constants?: {
    compileCacheStatus?: Record<'FAILED' | 'ENABLED' | 'ALREADY_ENABLED' | 'DISABLED', number>;
  };
}

export type CompileCacheState =
  /** On, in the agent's directory. */
  | 'enabled'
  /** On already, from NODE_COMPILE_CACHE: Node's choice of directory, left as the user set it. */
  | 'already-enabled'
  /** BOSUN_COMPILE_CACHE=off, NODE_DISABLE_COMPILE_CACHE, or the settings could not be read. */
  | 'off'
  /** This Node line has no compile cache (Node 20). */
  | 'unsupported'
  /** The directory could not be made or used; the agent starts without the cache. */
  | 'failed';

export interface CompileCache {
  readonly state: CompileCacheState;
  /** The cache's directory; Node keeps each version's entries in a subdirectory of it. */
  readonly directory?: string;
  readonly message?: string;
}

/** Node's per-version subdirectory, e.g. `v26.12.1-x64-310b2ce3-0` (version, arch, V8 flags hash, uid). */
const NODE_VERSION_DIR = /^v\d+\.\d+\.\d+-[\w]+-[0-9a-f]+-\d+$/;

/** About four bundles' worth of entries (one start writes ~1 MB on Node 26, x64). */
export const DEFAULT_COMPILE_CACHE_MAX_BYTES = 4 * 1024 * 1024;

/** BOSUN_COMPILE_CACHE: `off`, else a directory (relative to the working directory), else `<dataDir>/compile-cache`. */
export function compileCacheDirectory(env: Env, cwd: string): string | undefined {
  const value = env['BOSUN_COMPILE_CACHE']?.trim();
  if (value !== undefined && value !== '') {
    if (['off', 'false', '0', 'no'].includes(value.toLowerCase())) return undefined;
    return join(value.startsWith('/') ? '' : cwd, value);
  }
  return join(resolvePaths(env, cwd).dataDir, 'compile-cache');
}

/** Switches the cache on for every module loaded from now on. Call before the main chunk loads. */
export function enableCompileCache(
  env: Env,
  cwd: string,
  runtime: CompileCacheRuntime = nodeModule as CompileCacheRuntime,
): CompileCache {
  if (runtime.enableCompileCache === undefined) return { state: 'unsupported' };
  let directory: string | undefined;
  try {
    directory = compileCacheDirectory(env, cwd);
  } catch (err) {
    // A bad BOSUN_DATA_DIR: the full start-up reports it; the cache just stays off.
    return { state: 'off', message: err instanceof Error ? err.message : String(err) };
  }
  if (directory === undefined) return { state: 'off' };
  const status = runtime.constants?.compileCacheStatus;
  try {
    const result = runtime.enableCompileCache(directory);
    const state: CompileCacheState =
      result.status === status?.ENABLED
        ? 'enabled'
        : result.status === status?.ALREADY_ENABLED
          ? 'already-enabled'
          : result.status === status?.DISABLED
            ? 'off'
            : 'failed';
    return {
      state,
      ...(result.directory === undefined ? {} : { directory: result.directory }),
      ...(result.message === undefined ? {} : { message: result.message }),
    };
  } catch (err) {
    return { state: 'failed', message: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Once the agent is up: removes what other Node versions left in the cache directory, empties this
 * version's entries when they outgrow `maxBytes` (left from earlier bundles), then writes this start's
 * entries. Only the agent's own directory is touched (not one NODE_COMPILE_CACHE chose).
 */
export async function settleCompileCache(
  cache: CompileCache,
  logger: Logger,
  runtime: CompileCacheRuntime = nodeModule as CompileCacheRuntime,
  maxBytes = DEFAULT_COMPILE_CACHE_MAX_BYTES,
  nodeVersion = process.versions.node,
): Promise<void> {
  const log = logger.child({ component: 'compile-cache' });
  if (cache.state === 'failed') {
    log.warn('compile-cache.unusable', {
      directory: cache.directory,
      message: `starting without the compiled-code cache: ${cache.message ?? 'unknown reason'}`,
    });
    return;
  }
  if (cache.state !== 'enabled' || cache.directory === undefined) {
    log.debug('compile-cache.not-used', { state: cache.state, message: cache.message });
    return;
  }
  const root = cache.directory;
  // This Node's subdirectories (one per set of V8 flags): `v26.12.1-x64-<flags hash>-<uid>`.
  const ours = `v${nodeVersion}-${process.arch}-`;
  try {
    const mine: string[] = [];
    for (const entry of await readdir(root)) {
      // Only what Node itself made there: BOSUN_COMPILE_CACHE may name a directory that holds more.
      if (!NODE_VERSION_DIR.test(entry)) continue;
      if (entry.startsWith(ours)) mine.push(join(root, entry));
      else await rm(join(root, entry), { recursive: true, force: true });
    }
    let bytes = 0;
    for (const dir of mine) bytes += await directoryBytes(dir);
    if (bytes > maxBytes) {
      for (const dir of mine) await emptyDirectory(dir);
      log.info('compile-cache.emptied', { directory: root, bytes, maxBytes });
    }
    runtime.flushCompileCache?.();
    log.debug('compile-cache.ready', { directory: root, bytesBefore: bytes });
  } catch (err) {
    log.warn('compile-cache.unusable', {
      directory: root,
      message: `the compiled-code cache could not be kept in bounds: ${err instanceof Error ? err.message : String(err)}`,
    });
  }
}

async function emptyDirectory(directory: string): Promise<void> {
  for (const entry of await readdir(directory))
    await rm(join(directory, entry), { recursive: true, force: true });
}

/** Entries are plain files in one directory (Node writes no subdirectories there). */
async function directoryBytes(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(join(directory, entry.name))).size;
    else total += 4096;
  }
  return total;
}
