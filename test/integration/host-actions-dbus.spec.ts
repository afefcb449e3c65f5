/**
 * Host actions against a D-Bus bus the test starts (Debian's dbus-daemon on a private socket) with a
 * logind/systemd/hostnamed stand-in on it: the exact calls bosun makes, refusals and a missing bus as
 * clear errors, and reboot/power-off held back by an update lock (real lock files) until the lock goes
 * or the request is forced.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DbusHostActions } from '../../src/device/dbus-host-actions.js';
import { GuardedPower } from '../../src/device/guarded-power.js';
import { appsWithServices, createHostActions } from '../../src/device/host-actions.js';
import { HostUpdateLocks } from '../../src/device/locks.js';
import { RecordingHostActions } from '../../src/device/recording-host-actions.js';
import { systemClock } from '../../src/shared/clock.js';
import { isBosunError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import { HostStandIn, TestBus } from '../support/dbus.js';

describe('host actions over D-Bus (dbus-daemon + logind/systemd stand-in)', function () {
  this.timeout(30_000);
  let bus: TestBus;
  let host: HostStandIn;
  let dir: string;

  beforeEach(async () => {
    bus = await TestBus.start();
    host = await HostStandIn.start(bus.address);
    dir = await mkdtemp(join(tmpdir(), 'bosun-test-power-'));
  });
  afterEach(async () => {
    host.stop();
    await bus.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const members = (): string[] => host.calls.map((c) => `${c.interface}.${c.member}`);

  it('reboot, power-off, unit restart and hostname are the calls balenaOS answers', async () => {
    const actions = new DbusHostActions({ busAddress: bus.address });
    await actions.reboot();
    await actions.shutdown();
    await actions.restartService('resin-hostname.service');
    await actions.setHostname('my-device');
    assert.deepEqual(host.calls, [
      {
        destination: 'org.freedesktop.login1',
        path: '/org/freedesktop/login1',
        interface: 'org.freedesktop.login1.Manager',
        member: 'Reboot',
        body: [false],
      },
      {
        destination: 'org.freedesktop.login1',
        path: '/org/freedesktop/login1',
        interface: 'org.freedesktop.login1.Manager',
        member: 'PowerOff',
        body: [false],
      },
      {
        destination: 'org.freedesktop.systemd1',
        path: '/org/freedesktop/systemd1',
        interface: 'org.freedesktop.systemd1.Manager',
        member: 'RestartUnit',
        body: ['resin-hostname.service', 'fail'],
      },
      {
        destination: 'org.freedesktop.hostname1',
        path: '/org/freedesktop/hostname1',
        interface: 'org.freedesktop.hostname1',
        member: 'SetStaticHostname',
        body: ['my-device', false],
      },
    ]);
  });

  it('a refusal and a missing bus are HOST_ACTION_FAILED errors that say why', async () => {
    host.refuse = 'Interactive authentication required.';
    const actions = new DbusHostActions({ busAddress: bus.address });
    await assert.rejects(
      actions.reboot(),
      (err: unknown) =>
        isBosunError(err, 'HOST_ACTION_FAILED') &&
        /Manager\.Reboot/.test(err.message) &&
        /AccessDenied: Interactive authentication required/.test(err.message),
    );
    const nowhere = new DbusHostActions({ busAddress: `unix:path=${join(dir, 'no-bus')}` });
    await assert.rejects(
      nowhere.shutdown(),
      (err: unknown) => isBosunError(err, 'HOST_ACTION_FAILED') && /no-bus/.test(err.message),
    );
    await assert.rejects(
      new DbusHostActions({ busAddress: bus.address }).restartService('x; reboot'),
      (err: unknown) => isBosunError(err, 'VALIDATION_FAILED'),
    );
  });

  describe('reboot held back by update locks', () => {
    const appId = 7;
    let locks: HostUpdateLocks;
    let userLock: string;

    beforeEach(async () => {
      locks = new HostUpdateLocks({ root: join(dir, 'locks'), logger: silentLogger() });
      const serviceDir = await locks.prepare(appId, 'main');
      userLock = join(serviceDir, 'updates.lock');
      await mkdir(serviceDir, { recursive: true });
      await writeFile(userLock, ''); // the app holds its lock, as `lockfile /tmp/balena/updates.lock` does
    });

    const power = (waitMs: number): GuardedPower =>
      new GuardedPower({
        host: new DbusHostActions({ busAddress: bus.address }),
        locks,
        apps: () => [{ appId, services: ['main'] }],
        clock: systemClock,
        logger: silentLogger(),
        waitMs,
        retryMs: 50,
        delayMs: 10,
      });

    it('is refused with UPDATES_LOCKED after the wait, without asking logind; force reboots', async () => {
      await assert.rejects(power(300).request('reboot', false), (err: unknown) =>
        isBosunError(err, 'UPDATES_LOCKED'),
      );
      assert.deepEqual(members(), [], 'logind was not asked');
      assert.equal(await readFile(userLock, 'utf8'), '', "the app's lock is untouched");

      const { done } = await power(300).request('reboot', true);
      await done;
      assert.deepEqual(members(), ['org.freedesktop.login1.Manager.Reboot']);
      // The file time (`since`) is not what this test is about.
      const held = (await locks.list()).map(({ since: _since, ...lock }) => lock);
      assert.deepEqual(
        held,
        [{ appId, serviceName: 'main', heldBy: 'agent' }],
        'the agent holds it now',
      );
    });

    it('goes ahead as soon as the app gives its lock up during the wait', async () => {
      const request = power(20_000).request('shutdown', false);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(members(), [], 'still waiting');
      await rm(userLock);
      await (
        await request
      ).done;
      assert.deepEqual(members(), ['org.freedesktop.login1.Manager.PowerOff']);
    });

    it('a refused reboot gives the locks back', async () => {
      await rm(userLock);
      host.refuse = 'denied';
      const { done } = await power(300).request('reboot', false);
      await assert.rejects(done, (err: unknown) => isBosunError(err, 'HOST_ACTION_FAILED'));
      assert.deepEqual(await locks.list(), []);
    });
  });

  it('the development implementation records instead of acting; BOSUN_HOST_ACTIONS picks', async () => {
    const recorder = createHostActions({ BOSUN_HOST_ACTIONS: 'record' }, silentLogger());
    assert.ok(recorder instanceof RecordingHostActions);
    await recorder.reboot();
    await recorder.restartService('openvpn.service');
    assert.deepEqual(recorder.actions, [
      { action: 'reboot' },
      { action: 'restart-service', unit: 'openvpn.service' },
    ]);
    assert.ok(createHostActions({}, silentLogger()) instanceof DbusHostActions);
    assert.throws(
      () => createHostActions({ BOSUN_HOST_ACTIONS: 'yes' }, silentLogger()),
      (err: unknown) => isBosunError(err, 'CONFIG_INVALID'),
    );
    assert.deepEqual(members(), []);
    assert.deepEqual(
      appsWithServices({
        apps: { u: { appId: 1, release: { services: { a: {}, b: {} } } }, v: { appId: 2 } },
      }),
      [
        { appId: 1, services: ['a', 'b'] },
        { appId: 2, services: [] },
      ],
    );
  });
});
