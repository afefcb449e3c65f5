/**
 * A private D-Bus bus for host-action tests: Debian's dbus-daemon on a socket in a temp dir (never the
 * machine's system bus), and a small stand-in for logind, systemd and hostnamed on it that records each
 * call and answers as they do — or refuses, as polkit would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Message, sessionBus, type MessageBus } from '@jellybrick/dbus-next';

export class TestBus {
  private constructor(
    readonly address: string,
    private readonly daemon: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(): Promise<TestBus> {
    const dir = await mkdtemp(join(tmpdir(), 'bosun-test-dbus-'));
    const config = join(dir, 'bus.conf');
    await writeFile(
      config,
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${join(dir, 'system_bus_socket')}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`,
    );
    let daemon: ChildProcess;
    try {
      daemon = spawn('dbus-daemon', [`--config-file=${config}`, '--nofork', '--print-address'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      throw new Error(
        `dbus-daemon could not start (scripts/test-setup.sh installs it): ${String(err)}`,
      );
    }
    const address = await new Promise<string>((resolve, reject) => {
      let out = '';
      let errText = '';
      daemon.once('error', (err) =>
        reject(
          new Error(
            `dbus-daemon could not start (scripts/test-setup.sh installs it): ${err.message}`,
          ),
        ),
      );
      daemon.stderr?.on('data', (c: Buffer) => (errText += c.toString()));
      daemon.once('exit', (code) => reject(new Error(`dbus-daemon exited ${code}: ${errText}`)));
      daemon.stdout?.on('data', (c: Buffer) => {
        out += c.toString();
        const line = out.split('\n')[0];
        if (out.includes('\n') && line) resolve(line.trim());
      });
    });
    return new TestBus(address, daemon, dir);
  }

  async stop(): Promise<void> {
    if (this.daemon.exitCode === null) {
      const exited = new Promise((r) => this.daemon.once('exit', r));
      this.daemon.kill('SIGTERM');
      await exited;
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

export interface RecordedCall {
  destination: string;
  path: string;
  interface: string;
  member: string;
  body: unknown[];
}

const SERVICES = [
  'org.freedesktop.login1',
  'org.freedesktop.systemd1',
  'org.freedesktop.hostname1',
];

/** logind + systemd + hostnamed, as far as bosun talks to them. */
export class HostStandIn {
  readonly calls: RecordedCall[] = [];
  /** When set, every call is refused with this D-Bus error text (as polkit refuses). */
  refuse: string | undefined;

  private constructor(private readonly bus: MessageBus) {}

  static async start(address: string): Promise<HostStandIn> {
    const bus = sessionBus({ busAddress: address });
    const standIn = new HostStandIn(bus);
    for (const name of SERVICES) await bus.requestName(name, 0);
    bus.addMethodHandler((msg: Message) => standIn.handle(msg));
    return standIn;
  }

  private handle(msg: Message): boolean {
    if (!SERVICES.includes(msg.destination ?? '')) return false;
    this.calls.push({
      destination: msg.destination ?? '',
      path: msg.path ?? '',
      interface: msg.interface ?? '',
      member: msg.member ?? '',
      body: msg.body,
    });
    if (this.refuse !== undefined) {
      this.bus.send(Message.newError(msg, 'org.freedesktop.DBus.Error.AccessDenied', this.refuse));
      return true;
    }
    const reply =
      msg.member === 'RestartUnit'
        ? Message.newMethodReturn(msg, 'o', ['/org/freedesktop/systemd1/job/1'])
        : Message.newMethodReturn(msg, '', []);
    this.bus.send(reply);
    return true;
  }

  stop(): void {
    this.bus.disconnect();
  }
}
