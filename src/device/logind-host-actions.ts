/**
 * Reboot and power-off through systemd-logind on the host's system D-Bus
 * (org.freedesktop.login1.Manager.Reboot / PowerOff, `interactive=false`), the way balena-supervisor
 * asks the host. Calls go through `busctl` (systemd's own D-Bus client) with an argv array, never a shell;
 * `DBUS_SYSTEM_BUS_ADDRESS` selects the host bus when bosun runs in a container. The LED blink is a
 * no-op here: generic hosts have no identification LED.
 *
 * main.ts decides whether to wire this: on a development machine a test calling POST /v1/reboot would
 * really reboot it, so tests inject a recording implementation instead.
 */
import { execFile } from 'node:child_process';
import { BosunError } from '../shared/errors.js';

export interface LogindHostActionsOptions {
  /** The D-Bus client binary; tests point it at a recorder. */
  busctl?: string;
  env?: NodeJS.ProcessEnv;
}

const LOGIND = [
  'org.freedesktop.login1',
  '/org/freedesktop/login1',
  'org.freedesktop.login1.Manager',
] as const;

export class LogindHostActions {
  private readonly busctl: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(options: LogindHostActionsOptions = {}) {
    this.busctl = options.busctl ?? 'busctl';
    this.env = options.env ?? process.env;
  }

  reboot(): Promise<void> {
    return this.call('Reboot');
  }

  shutdown(): Promise<void> {
    return this.call('PowerOff');
  }

  blink(_durationMs: number): Promise<void> {
    return Promise.resolve();
  }

  private call(method: 'Reboot' | 'PowerOff'): Promise<void> {
    const args = ['--system', 'call', ...LOGIND, method, 'b', 'false'];
    return new Promise((resolve, reject) => {
      execFile(this.busctl, args, { env: this.env, timeout: 10_000 }, (err, _stdout, stderr) => {
        if (err === null) resolve();
        else
          reject(
            new BosunError('INTERNAL', `logind ${method} failed: ${stderr.trim() || err.message}`, {
              cause: err,
            }),
          );
      });
    });
  }
}
