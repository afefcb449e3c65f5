/**
 * Reboot and power-off that respect update locks (docs/protocol.md#reboot-and-shutdown): before the host goes
 * down, the agent takes the update lock of every service of every app, waiting up to `waitMs` for services
 * that hold theirs; `force` (or the lockOverride config var) removes them instead. Only then is the host
 * asked, after `delayMs` so the API can answer first. Locks the agent took stay taken: nothing may
 * start an update while the device goes down; if the host refuses, they are released again.
 */
import { BosunError, isBosunError } from '../shared/errors.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';

export type PowerAction = 'reboot' | 'shutdown';

export interface PowerHost {
  reboot(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface PowerLocks {
  take(appId: number, services: readonly string[], options: { force: boolean }): Promise<void>;
  release(appId: number): Promise<void>;
}

export interface GuardedPowerOptions {
  host: PowerHost;
  locks: PowerLocks;
  /** The apps on the device now and their services: whose locks to take. */
  apps: () => ReadonlyArray<{ appId: number; services: readonly string[] }>;
  clock: Clock;
  logger: Logger;
  /** How long to wait for services to give their locks up (balena: 10 s). */
  waitMs?: number;
  retryMs?: number;
  /** Between the answer to the request and the call to the host (balena: 1 s). */
  delayMs?: number;
}

export class GuardedPower {
  private readonly log: Logger;

  constructor(private readonly options: GuardedPowerOptions) {
    this.log = options.logger.child({ component: 'power' });
  }

  /**
   * Resolves once the locks are held and the action is scheduled; rejects with UPDATES_LOCKED when
   * a service kept its lock for the whole wait (nothing is left locked by the agent then). `done`
   * settles when the host was asked (for tests and the log).
   */
  async request(action: PowerAction, force: boolean): Promise<{ done: Promise<void> }> {
    const { clock } = this.options;
    const waitMs = this.options.waitMs ?? 10_000;
    const deadline = clock.now() + waitMs;
    const apps = this.options.apps();
    for (;;) {
      try {
        await this.takeAll(apps, force);
        break;
      } catch (err) {
        if (!isBosunError(err, 'UPDATES_LOCKED') || clock.now() >= deadline) {
          this.log.warn('power.locked', { action, waitedMs: waitMs, err });
          throw err;
        }
        await clock.sleep(this.options.retryMs ?? 500);
      }
    }
    this.log.info('power.scheduled', { action, force });
    const done = clock.sleep(this.options.delayMs ?? 1000).then(async () => {
      this.log.info(action === 'reboot' ? 'power.rebooting' : 'power.shutting-down', {});
      try {
        await (action === 'reboot' ? this.options.host.reboot() : this.options.host.shutdown());
      } catch (err) {
        this.log.error('power.failed', { action, err });
        await Promise.all(apps.map((a) => this.options.locks.release(a.appId)));
        throw err;
      }
    });
    done.catch(() => undefined); // logged above; callers that await it still see the error
    return { done };
  }

  /** All or nothing: a lock that cannot be taken gives back the ones this round took. */
  private async takeAll(
    apps: ReadonlyArray<{ appId: number; services: readonly string[] }>,
    force: boolean,
  ): Promise<void> {
    const taken: number[] = [];
    try {
      for (const app of apps) {
        await this.options.locks.take(app.appId, app.services, { force });
        taken.push(app.appId);
      }
    } catch (err) {
      await Promise.all(taken.map((appId) => this.options.locks.release(appId)));
      if (isBosunError(err)) throw err;
      throw new BosunError('UPDATES_LOCKED', `could not take update locks: ${String(err)}`, {
        cause: err,
      });
    }
  }
}
