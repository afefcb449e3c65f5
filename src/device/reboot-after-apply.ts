/**
 * The reboot a release asks for (label `io.balena.update.requires-reboot`,
 * docs/protocol.md#reboot-and-shutdown): the planner does not start such a service's new container before the
 * next boot and says so as a `reboot` wait. Once that is all that is left — every other service where the
 * target wants it — this writes the breadcrumb `<lock root>/reboot-after-apply` and asks for a reboot through
 * the lock-guarded power control (so an app's update lock still holds it back). The breadcrumb's mtime is the
 * guard against doing it twice: while it is newer than the boot time, the reboot was already asked for in
 * this boot; after the reboot it is older, the container starts, and nothing asks again.
 */
import { rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppStatus, ReconcileStatus } from '../reconciler/status.js';
import type { Logger } from '../shared/logger.js';

export const REBOOT_BREADCRUMB = 'reboot-after-apply';

export interface RebootAfterApplyOptions {
  /** The host lock root (`/tmp/balena-supervisor` on balenaOS): where the breadcrumb lives. */
  lockRoot: string;
  /** Epoch ms of this boot. */
  bootTime: number;
  power: { request(action: 'reboot', force: boolean): Promise<unknown> };
  logger: Logger;
}

/** True when services wait only for the reboot and nothing else is still on its way. */
export function onlyRebootLeft(status: ReconcileStatus): boolean {
  if (status.phase !== 'blocked') return false;
  const services = Object.values(status.apps).flatMap((app: AppStatus) =>
    Object.values(app.services),
  );
  const waiting = services.filter((s) => s.waitingFor !== undefined);
  return waiting.length > 0 && waiting.every((s) => s.waitingFor?.kind === 'reboot');
}

export class RebootAfterApply {
  private readonly log: Logger;
  private readonly breadcrumb: string;
  private inFlight = false;

  constructor(private readonly options: RebootAfterApplyOptions) {
    this.log = options.logger.child({ component: 'reboot-after-apply' });
    this.breadcrumb = join(options.lockRoot, REBOOT_BREADCRUMB);
  }

  /** Feed every status the reconciler publishes. Never throws; returns when this status was handled. */
  async onStatus(status: ReconcileStatus): Promise<void> {
    if (this.inFlight || !onlyRebootLeft(status)) return;
    this.inFlight = true;
    try {
      if (await this.alreadyAskedThisBoot()) return;
      const services = Object.values(status.apps).flatMap((a) =>
        Object.values(a.services)
          .filter((s) => s.waitingFor?.kind === 'reboot')
          .map((s) => `${a.name}/${s.serviceName}`),
      );
      await writeFile(this.breadcrumb, `${JSON.stringify({ services })}\n`);
      this.log.info('reboot.scheduled', {
        reason: 'Reboot has been scheduled to apply changes',
        services,
      });
      try {
        await this.options.power.request('reboot', false);
      } catch (err) {
        // Held back (an update lock) or refused: forget the breadcrumb so the next status tries again.
        await rm(this.breadcrumb, { force: true });
        this.log.warn('reboot.deferred', { err });
      }
    } catch (err) {
      this.log.error('reboot.failed', { err });
    } finally {
      this.inFlight = false;
    }
  }

  private async alreadyAskedThisBoot(): Promise<boolean> {
    try {
      return (await stat(this.breadcrumb)).mtimeMs > this.options.bootTime;
    } catch {
      return false;
    }
  }
}
