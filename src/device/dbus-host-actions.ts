/**
 * Host actions on a real host, the way balenaOS takes them: systemd-logind for reboot and power-off
 * (org.freedesktop.login1.Manager.Reboot / PowerOff, `interactive=false`), systemd for restarting host
 * services (org.freedesktop.systemd1.Manager.RestartUnit, mode `fail`), systemd-hostnamed for the
 * static hostname. Spoken over the system D-Bus with dbus-next (@jellybrick's maintained fork, no native parts): the container image has no busctl.
 * DBUS_SYSTEM_BUS_ADDRESS selects the bus (bosun in a container gets the host's socket mounted); one
 * connection per action, since actions are rare and a long-lived one would outlive a restarted bus.
 */
// Types only here: the library is loaded on the first action (actions are rare; an idle agent need
// not hold it in memory).
import type * as DBusNext from '@jellybrick/dbus-next';
import type { MessageBus } from '@jellybrick/dbus-next';
import { BosunError } from '../shared/errors.js';

export interface DbusHostActionsOptions {
  /** `unix:path=…`; default: DBUS_SYSTEM_BUS_ADDRESS, else the standard system bus socket. */
  busAddress?: string | undefined;
  /** Per call; a hung bus must not hold a reboot request forever. */
  timeoutMs?: number;
}

const SYSTEM_BUS = 'unix:path=/var/run/dbus/system_bus_socket';

interface Call {
  destination: string;
  path: string;
  interface: string;
  member: string;
  signature: string;
  body: unknown[];
}

const login1 = (member: string): Call => ({
  destination: 'org.freedesktop.login1',
  path: '/org/freedesktop/login1',
  interface: 'org.freedesktop.login1.Manager',
  member,
  signature: 'b',
  body: [false],
});

export class DbusHostActions {
  private readonly busAddress: string;
  private readonly timeoutMs: number;

  constructor(options: DbusHostActionsOptions = {}) {
    this.busAddress = options.busAddress ?? process.env['DBUS_SYSTEM_BUS_ADDRESS'] ?? SYSTEM_BUS;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  reboot(): Promise<void> {
    return this.call(login1('Reboot'));
  }

  shutdown(): Promise<void> {
    return this.call(login1('PowerOff'));
  }

  /** Generic hosts have no identification LED. */
  blink(_durationMs: number): Promise<void> {
    return Promise.resolve();
  }

  /** Restarts a host unit as balenaOS's supervisor does after changing its config (e.g. the hostname). */
  restartService(unit: string): Promise<void> {
    if (!/^[A-Za-z0-9:_.@-]+\.(service|target|socket|timer)$/.test(unit))
      return Promise.reject(
        new BosunError('VALIDATION_FAILED', `not a systemd unit name: ${unit}`),
      );
    return this.call({
      destination: 'org.freedesktop.systemd1',
      path: '/org/freedesktop/systemd1',
      interface: 'org.freedesktop.systemd1.Manager',
      member: 'RestartUnit',
      signature: 'ss',
      body: [unit, 'fail'],
    });
  }

  setHostname(hostname: string): Promise<void> {
    return this.call({
      destination: 'org.freedesktop.hostname1',
      path: '/org/freedesktop/hostname1',
      interface: 'org.freedesktop.hostname1',
      member: 'SetStaticHostname',
      signature: 'sb',
      body: [hostname, false],
    });
  }

  private async call(call: Call): Promise<void> {
    const what = `${call.interface.split('.').pop() ?? call.interface}.${call.member}`;
    let dbus: typeof DBusNext | undefined;
    let bus: MessageBus | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      dbus = await import('@jellybrick/dbus-next');
      bus = dbus.sessionBus({ busAddress: this.busAddress });
      // The library emits 'error' for a failed connection (its typings leave the event out); without a
      // listener that would throw from the event loop.
      const emitter: NodeJS.EventEmitter = bus;
      const connectionFailed = new Promise<never>((_, reject) => {
        emitter.on('error', (err: unknown) =>
          reject(err instanceof Error ? err : new Error(String(err))),
        );
      });
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${this.timeoutMs} ms`)),
          this.timeoutMs,
        );
      });
      await Promise.race([bus.call(new dbus.Message(call)), connectionFailed, timedOut]);
    } catch (err) {
      const text =
        dbus !== undefined && err instanceof dbus.DBusError
          ? `${err.type}: ${err.text}`
          : (err as Error).message;
      throw new BosunError('HOST_ACTION_FAILED', `${what} on ${this.busAddress} failed: ${text}`, {
        cause: err,
        details: { member: call.member },
      });
    } finally {
      clearTimeout(timer);
      bus?.disconnect();
    }
  }
}
