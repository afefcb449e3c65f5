/**
 * Host actions for development: records and logs what a real host would be asked to do instead of
 * doing it, so running bosun on a workstation (BOSUN_HOST_ACTIONS=record) never reboots it.
 */
import type { Logger } from '../shared/logger.js';

export type RecordedHostAction =
  | { action: 'reboot' | 'shutdown' }
  | { action: 'blink'; durationMs: number }
  | { action: 'restart-service'; unit: string }
  | { action: 'set-hostname'; hostname: string };

/** How many recorded actions are kept: a long-running development agent must not grow without bound. */
const KEEP = 100;

export class RecordingHostActions {
  private readonly log: Logger;
  private readonly recorded: RecordedHostAction[] = [];

  constructor(logger: Logger) {
    this.log = logger.child({ component: 'host-actions' });
  }

  /** What was asked, oldest first (at most the last 100). */
  get actions(): readonly RecordedHostAction[] {
    return this.recorded;
  }

  reboot(): Promise<void> {
    return this.record({ action: 'reboot' });
  }

  shutdown(): Promise<void> {
    return this.record({ action: 'shutdown' });
  }

  blink(durationMs: number): Promise<void> {
    return this.record({ action: 'blink', durationMs });
  }

  restartService(unit: string): Promise<void> {
    return this.record({ action: 'restart-service', unit });
  }

  setHostname(hostname: string): Promise<void> {
    return this.record({ action: 'set-hostname', hostname });
  }

  private record(entry: RecordedHostAction): Promise<void> {
    this.recorded.push(entry);
    if (this.recorded.length > KEEP) this.recorded.shift();
    this.log.info('host-action.recorded', { ...entry, note: 'development: not done' });
    return Promise.resolve();
  }
}
