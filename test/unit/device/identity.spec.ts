import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { NetworkInterfaceInfo } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  balenaArch,
  defaultDeviceType,
  parseOsRelease,
  presenceAddresses,
} from '../../../src/device/identity-facts.js';
import { DeviceIdentity } from '../../../src/device/identity.js';

const v4 = (address: string, internal = false): NetworkInterfaceInfo => ({
  address,
  netmask: '255.255.255.0',
  family: 'IPv4',
  mac: '00:00:00:00:00:00',
  internal,
  cidr: null,
});
const v6 = (address: string, scopeid: number): NetworkInterfaceInfo => ({
  address,
  netmask: 'ffff:ffff:ffff:ffff::',
  family: 'IPv6',
  mac: '00:00:00:00:00:00',
  internal: false,
  cidr: null,
  scopeid,
});

describe('device identity facts', () => {
  it('maps Node arches to balena arch names and generic device types', () => {
    assert.deepEqual(
      ['x64', 'arm64', 'ia32', 'arm'].map((a) => balenaArch(a, '7')),
      ['amd64', 'aarch64', 'i386', 'armv7hf'],
    );
    assert.equal(balenaArch('arm', '6'), 'rpi');
    assert.equal(defaultDeviceType('amd64'), 'genericx86-64-ext');
    assert.equal(defaultDeviceType('aarch64'), 'generic-aarch64');
  });

  it('parses os-release values, quoted or not', () => {
    const parsed = parseOsRelease(
      '# comment\nPRETTY_NAME="balenaOS 5.3.1 \\"dev\\""\nID=balena-os\nVERSION_ID=\'5.3.1\'\nbroken line\n',
    );
    assert.deepEqual(parsed, {
      PRETTY_NAME: 'balenaOS 5.3.1 "dev"',
      ID: 'balena-os',
      VERSION_ID: '5.3.1',
    });
  });

  it('reports non-internal IPv4 and global IPv6 of own interfaces only (docs/protocol.md#device-information exclusions)', () => {
    const addresses = presenceAddresses({
      lo: [v4('127.0.0.1', true)],
      eth0: [v4('192.168.1.20'), v6('2001:db8::20', 0), v6('fe80::1', 2)],
      wlan0: [v4('10.0.0.5')],
      docker0: [v4('172.17.0.1')],
      'br-0123456789ab': [v4('172.18.0.1')],
      supervisor0: [v4('10.114.104.1')],
      'resin-vpn': [v4('10.240.0.2')],
      tun0: [v4('10.8.0.2')],
    });
    assert.deepEqual(addresses, ['192.168.1.20', '2001:db8::20', '10.0.0.5']);
  });
});

describe('DeviceIdentity', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'bosun-identity-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function iface(
    name: string,
    files: Record<string, string>,
    enslaved = false,
  ): Promise<void> {
    const dir = join(root, 'net', name);
    await mkdir(dir, { recursive: true });
    for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), `${text}\n`);
    if (enslaved) await mkdir(join(dir, 'master'));
  }

  it('reads OS version, board revision, MACs of unenslaved Ethernet interfaces, and prefers config.json', async () => {
    await writeFile(
      join(root, 'os-release'),
      'PRETTY_NAME="balenaOS 5.3.1"\nBALENA_BOARD_REV=abc123\n',
    );
    await iface('eth0', { type: '1', address: 'aa:bb:cc:00:00:01' });
    await iface('wlan0', { type: '1', address: 'aa:bb:cc:00:00:02' });
    await iface('eth1', { type: '1', address: 'aa:bb:cc:00:00:01' }); // same MAC: reported once
    await iface('enslaved0', { type: '1', address: 'aa:bb:cc:00:00:03' }, true);
    await iface('docker0', { type: '1', address: 'aa:bb:cc:00:00:04' });
    await iface('wg0', { type: '65534', address: '' });
    const identity = new DeviceIdentity({
      configDeviceType: 'raspberrypi4-64',
      configHostname: 'my-device',
      nodeArch: 'arm64',
      osReleasePath: join(root, 'os-release'),
      sysClassNetPath: join(root, 'net'),
      networkInterfaces: () => ({ eth0: [v4('192.168.1.20')] }),
      systemHostname: () => 'ignored',
    });
    assert.equal(identity.arch, 'aarch64');
    assert.equal(identity.deviceType, 'raspberrypi4-64');
    assert.equal(await identity.osVersion(), 'balenaOS 5.3.1');
    assert.equal(await identity.osBoardRev(), 'abc123');
    assert.equal(identity.hostname(), 'my-device');
    assert.deepEqual(identity.ipAddresses(), ['192.168.1.20']);
    assert.deepEqual(await identity.macAddresses(), ['AA:BB:CC:00:00:01', 'AA:BB:CC:00:00:02']);
  });

  it('falls back to the generic device type, the system hostname, and no OS version when files are missing', async () => {
    const identity = new DeviceIdentity({
      nodeArch: 'x64',
      configDeviceType: '',
      osReleasePath: join(root, 'missing'),
      sysClassNetPath: join(root, 'missing-net'),
      systemHostname: () => 'debian',
    });
    assert.equal(identity.deviceType, 'genericx86-64-ext');
    assert.equal(await identity.osVersion(), undefined);
    assert.equal(identity.hostname(), 'debian');
    assert.deepEqual(await identity.macAddresses(), []);
  });
});
