/**
 * Update locks on the host, compatible with balena-supervisor (docs/protocol.md#update-locks).
 *
 * Layout: `<root>/services/<appId>/<service>/` is bind-mounted into the service's containers at both
 * `/tmp/balena` and `/tmp/resin`; an app holds off updates by creating `updates.lock` (or the legacy
 * `resin-updates.lock`) there. The agent takes a lock by creating both files exclusively (O_EXCL).
 *
 * Root: default `/tmp/balena-supervisor` (env `BOSUN_LOCK_ROOT`, validated in config/agent-settings.ts), the path
 * balena-supervisor's containers already bind, so adopted containers keep working; being under /tmp it is
 * cleared by a reboot, so a lock left by a process that died with the device never outlives the boot.
 *
 * Telling the agent's locks from the app's: like balena (which takes locks as uid 65534) the agent's
 * files are owned by uid 65534 when we run as root, and in every case start with AGENT_MARKER. A file
 * with either property is the agent's; anything else belongs to the app.
 *
 * Stale user locks: the caller (the reconciler, which sees the containers) decides which services'
 * user locks are stale and passes them in `overrideServices`; this module only does the file work.
 *
 * Hostile lock files: the service directory is writable from inside the app's containers, so every
 * entry in it is attacker-controlled. Entries are judged with lstat (lock-entry.ts): only a regular file
 * is a normal lock and at most a few bytes of it are read, with O_NOFOLLOW|O_NONBLOCK; a symlink, FIFO,
 * directory, device, socket or unreadable file counts as "locked by the service" (the app clearly did
 * something there) and is logged once per path and kind, so one app's odd file never fails the round.
 */
import { constants as fsConstants } from 'node:fs';
import { chmod, mkdir, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LockHolder, LockState } from '../domain/model.js';
import { BosunError, errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { inspectLockEntry, removeLockEntry, type LockEntry } from './lock-entry.js';

export const LOCK_FILES = ['updates.lock', 'resin-updates.lock'] as const;
export const HANDOVER_FILES = ['handover-complete', 'resin-kill-me'] as const;
export const AGENT_MARKER = 'bosun-agent';
/** balena-supervisor's lock owner; keeps leftover locks of an upgraded device recognisable. */
export const AGENT_LOCK_UID = 65534;

export interface TakeLockOptions {
  /** Remove user locks first (request flag or SUPERVISOR_OVERRIDE_LOCK). */
  force: boolean;
  /** Services whose user locks the caller judged stale: removed like forced ones. */
  overrideServices?: readonly string[];
}

export interface UpdateLocksOptions {
  root: string;
  logger: Logger;
  /** Whether to chown the agent's lock files to AGENT_LOCK_UID (only possible as root). */
  chownAgentLocks?: boolean;
}

export class HostUpdateLocks {
  private readonly root: string;
  private readonly logger: Logger;
  private readonly chownAgentLocks: boolean;
  /** One locking operation per app at a time inside this process (take and release interleave badly). */
  private readonly perApp = new Map<number, Promise<unknown>>();
  /** Last odd kind logged per path: the log line is repeated only when the kind changes (throttle). */
  private readonly reportedOdd = new Map<string, string>();

  constructor(options: UpdateLocksOptions) {
    this.root = options.root;
    this.logger = options.logger.child({ component: 'locks' });
    this.chownAgentLocks = options.chownAgentLocks ?? process.getuid?.() === 0;
  }

  /** Host directory bound into the service's containers at /tmp/balena and /tmp/resin. */
  serviceDir(appId: number, serviceName: string): string {
    return join(this.root, 'services', String(appId), serviceName);
  }

  /** Creates the service's lock directory, writable by any container user (1777 like balena). */
  async prepare(appId: number, serviceName: string): Promise<string> {
    const dir = this.serviceDir(appId, serviceName);
    await mkdir(dir, { recursive: true });
    await chmod(dir, 0o1777);
    return dir;
  }

  async take(appId: number, services: readonly string[], options: TakeLockOptions): Promise<void> {
    await this.serialised(appId, async () => {
      const created: string[] = [];
      try {
        for (const service of services) {
          const overridden =
            options.force || (options.overrideServices?.includes(service) ?? false);
          await this.prepare(appId, service);
          for (const file of LOCK_FILES) {
            const path = join(this.serviceDir(appId, service), file);
            if (await this.createExclusive(path)) {
              created.push(path);
              continue;
            }
            if ((await this.holderOf(path)) === 'agent') continue; // already ours (e.g. left from before a restart)
            if (!overridden) {
              throw new BosunError(
                'UPDATES_LOCKED',
                `Lockfile exists for { appId: ${appId}, service: ${service} }`,
                {
                  details: { appId, service, file },
                },
              );
            }
            this.logger.warn('lock.user-lock-overridden', {
              appId,
              service,
              file,
              force: options.force,
            });
            await removeLockEntry(path);
            if (!(await this.createExclusive(path))) {
              throw new BosunError(
                'UPDATES_LOCKED',
                `Lockfile re-created while overriding it for { appId: ${appId}, service: ${service} }`,
                {
                  details: { appId, service, file },
                },
              );
            }
            created.push(path);
          }
        }
      } catch (err) {
        // All or nothing: give back what this call took so a failed take leaves no agent locks behind.
        await Promise.all(created.map((path) => removeLockEntry(path)));
        if (err instanceof BosunError) throw err;
        throw new BosunError(
          'UPDATES_LOCKED',
          `Could not take update locks for app ${appId}: ${errorMessage(err)}`,
          { cause: err, details: { appId } },
        );
      }
    });
  }

  /** Removes the agent's own lock files of every service of the app; user locks are left alone. */
  async release(appId: number): Promise<void> {
    await this.serialised(appId, async () => {
      const appDir = join(this.root, 'services', String(appId));
      // Every service at once: the app's update waits for this before it counts as settled.
      await Promise.all(
        (await listDirs(appDir)).map(async (service) => {
          await Promise.all(
            LOCK_FILES.map(async (file) => {
              const path = join(appDir, service, file);
              if ((await this.holderOf(path)) === 'agent') await removeLockEntry(path);
            }),
          );
        }),
      );
    });
  }

  /**
   * Every service that has a lock file, and who holds it (a user lock wins over the agent's twin).
   * Read every round, so every entry is judged at once (a round used to wait on ten serial lstats for
   * five services). Only the known names are looked at, never a listing of the directory: the app can
   * fill it with any number of entries.
   */
  async list(): Promise<LockState[]> {
    const perService = await Promise.all(
      (await this.serviceDirs()).map(async ({ appId, serviceName, dir }) => {
        const held = await Promise.all(LOCK_FILES.map((file) => this.heldSince(join(dir, file))));
        const holders: LockHolder[] = [];
        let since: number | undefined;
        for (const h of held) {
          if (h === undefined) continue;
          holders.push(h.holder);
          if (h.since !== undefined) since = Math.min(since ?? h.since, h.since);
        }
        if (holders.length === 0) return [];
        const lock: LockState = {
          appId,
          serviceName,
          heldBy: holders.includes('user') ? 'user' : 'agent',
          ...(since === undefined ? {} : { since }),
        };
        return [lock];
      }),
    );
    return perService.flat();
  }

  /** `<appId>/<service>` of services that signalled hand-over complete (any entry of that name counts). */
  async handoverComplete(): Promise<string[]> {
    const perService = await Promise.all(
      (await this.serviceDirs()).map(async ({ appId, serviceName, dir }) => {
        const entries = await Promise.all(
          HANDOVER_FILES.map((file) => inspectLockEntry(join(dir, file))),
        );
        return entries.some((e) => e.kind !== 'missing') ? [`${appId}/${serviceName}`] : [];
      }),
    );
    return perService.flat();
  }

  /** Deletes hand-over flags once the outgoing container is gone, so the next hand-over waits again. */
  async clearHandover(appId: number, serviceName: string): Promise<void> {
    const dir = this.serviceDir(appId, serviceName);
    await Promise.all(HANDOVER_FILES.map((file) => removeLockEntry(join(dir, file))));
  }

  private async serviceDirs(): Promise<Array<{ appId: number; serviceName: string; dir: string }>> {
    const servicesRoot = join(this.root, 'services');
    const apps = (await listDirs(servicesRoot)).filter((app) => Number.isInteger(Number(app)));
    const perApp = await Promise.all(
      apps.map(async (app) =>
        (await listDirs(join(servicesRoot, app))).map((serviceName) => ({
          appId: Number(app),
          serviceName,
          dir: join(servicesRoot, app, serviceName),
        })),
      ),
    );
    return perApp.flat();
  }

  /** true if we created it; false if it already existed. */
  private async createExclusive(path: string): Promise<boolean> {
    let handle;
    try {
      handle = await open(
        path,
        fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY,
        0o644,
      );
    } catch (err) {
      if (isErrno(err, 'EEXIST')) return false;
      throw err;
    }
    try {
      await handle.writeFile(`${AGENT_MARKER} pid=${process.pid}\n`);
      if (this.chownAgentLocks) await handle.chown(AGENT_LOCK_UID, AGENT_LOCK_UID);
    } finally {
      await handle.close();
    }
    return true;
  }

  private async holderOf(path: string): Promise<LockHolder | undefined> {
    return (await this.heldSince(path))?.holder;
  }

  /** Who holds the lock entry, and since when for a regular file (its modification time). */
  private async heldSince(
    path: string,
  ): Promise<{ holder: LockHolder; since: number | undefined } | undefined> {
    const entry = await inspectLockEntry(path, AGENT_MARKER.length);
    this.reportOdd(path, entry);
    switch (entry.kind) {
      case 'missing':
        return undefined;
      case 'file': {
        const since = Math.round(entry.mtimeMs);
        if (entry.uid === AGENT_LOCK_UID) return { holder: 'agent', since }; // ours, or balena-supervisor's leftover
        return { holder: entry.head === AGENT_MARKER ? 'agent' : 'user', since };
      }
      case 'symlink':
      case 'directory':
      case 'fifo':
      case 'socket':
      case 'device':
      case 'unreadable':
        // The app put something odd there: it means "do not update me" (logged above).
        return { holder: 'user', since: undefined };
    }
  }

  private reportOdd(path: string, entry: LockEntry): void {
    if (entry.kind === 'missing' || entry.kind === 'file') {
      this.reportedOdd.delete(path);
      return;
    }
    const what = entry.kind === 'unreadable' ? `unreadable (${entry.reason})` : entry.kind;
    if (this.reportedOdd.get(path) === what) return;
    this.reportedOdd.set(path, what);
    this.logger.warn('lock.odd-lock-file', {
      path,
      kind: what,
      treatedAs: 'locked by the service',
    });
  }

  private async serialised<T>(appId: number, fn: () => Promise<T>): Promise<T> {
    const previous = this.perApp.get(appId) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.perApp.set(appId, settled);
    try {
      return await next;
    } finally {
      if (this.perApp.get(appId) === settled) this.perApp.delete(appId);
    }
  }
}

async function listDirs(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === code;
}
