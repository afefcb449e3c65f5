/**
 * Which host-action implementation runs: `dbus` (default; a real host: systemd and logind on the system
 * bus) or `record` (development: logs what it would do). BOSUN_HOST_ACTIONS picks; anything else is a
 * configuration error rather than a silent guess, since the wrong choice either reboots a workstation or
 * ignores a reboot a release needs.
 */
import { BosunError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { DbusHostActions } from './dbus-host-actions.js';
import { RecordingHostActions } from './recording-host-actions.js';

export interface HostActionsPort {
  reboot(): Promise<void>;
  shutdown(): Promise<void>;
  blink(durationMs: number): Promise<void>;
  restartService(unit: string): Promise<void>;
  setHostname(hostname: string): Promise<void>;
}

export function createHostActions(
  env: Readonly<Record<string, string | undefined>>,
  logger: Logger,
): HostActionsPort {
  const choice = (env['BOSUN_HOST_ACTIONS'] ?? '').trim() || 'dbus';
  if (choice === 'dbus') return new DbusHostActions({ busAddress: env['DBUS_SYSTEM_BUS_ADDRESS'] });
  if (choice === 'record') return new RecordingHostActions(logger);
  throw new BosunError(
    'CONFIG_INVALID',
    `environment variable BOSUN_HOST_ACTIONS='${choice}' is invalid: expected dbus or record`,
    { details: { variable: 'BOSUN_HOST_ACTIONS', value: choice } },
  );
}

/** The apps the target runs and their services: whose update locks a reboot takes. */
export function appsWithServices(
  target:
    | {
        apps: Record<
          string,
          { appId: number; release?: { services: Record<string, unknown> } | undefined }
        >;
      }
    | undefined,
): Array<{ appId: number; services: string[] }> {
  return Object.values(target?.apps ?? {}).map((app) => ({
    appId: app.appId,
    services: Object.keys(app.release?.services ?? {}),
  }));
}
