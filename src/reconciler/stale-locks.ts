/**
 * The stale-lock rule. A user's update lock is honoured while the service that took it could still
 * release it. When none of the service's containers has been running or paused for `afterMs` (they
 * exited, crash-loop, or are gone), the lock is stale: it is ignored and overridden like a forced one,
 * because a dead container must not block updates forever (including the update that would fix it).
 * The clock starts when the agent first sees the lock in that state, so after an agent restart the
 * lock is honoured for another full window: erring on the side of the user.
 */
import { lockKey, type LockKey } from '../domain/keys.js';
import type { CurrentState, LockState } from '../domain/model.js';

export function staleLockKey(lock: Pick<LockState, 'appId' | 'serviceName'>): LockKey {
  return lockKey(lock.appId, lock.serviceName);
}

export interface Staleness {
  /** User locks judged stale. */
  stale: ReadonlySet<LockKey>;
  /** When the next honoured user lock turns stale if nothing changes. */
  nextDeadline: number | undefined;
}

export class StaleLockTracker {
  private readonly deadSince = new Map<LockKey, number>();

  constructor(private readonly afterMs: number) {}

  /** The staleness `update` would find now, remembering nothing (for the plan preview). */
  peek(current: CurrentState, now: number): ReadonlySet<LockKey> {
    const stale = new Set<LockKey>();
    for (const lock of current.locks) {
      const since = this.deadSince.get(staleLockKey(lock));
      if (lock.heldBy === 'user' && since !== undefined && now - since >= this.afterMs)
        stale.add(staleLockKey(lock));
    }
    return stale;
  }

  update(current: CurrentState, now: number): Staleness {
    const stale = new Set<LockKey>();
    let nextDeadline: number | undefined;
    const seen = new Set<LockKey>();
    for (const lock of current.locks) {
      if (lock.heldBy !== 'user') continue;
      const key = staleLockKey(lock);
      seen.add(key);
      const alive = current.containers.some(
        (c) =>
          c.appId === lock.appId &&
          c.serviceName === lock.serviceName &&
          (c.status === 'running' || c.status === 'paused'),
      );
      if (alive) {
        this.deadSince.delete(key);
        continue;
      }
      const since = this.deadSince.get(key) ?? now;
      this.deadSince.set(key, since);
      if (now - since >= this.afterMs) stale.add(key);
      else nextDeadline = Math.min(nextDeadline ?? Infinity, since + this.afterMs);
    }
    for (const key of [...this.deadSince.keys()]) if (!seen.has(key)) this.deadSince.delete(key);
    return { stale, nextDeadline };
  }
}
