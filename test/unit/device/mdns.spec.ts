import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { selectMdnsAddresses } from '../../../src/device/mdns.js';

const addr = (
  address: string,
  family: 'IPv4' | 'IPv6' = 'IPv4',
  internal = false,
): NetworkInterfaceInfo =>
  family === 'IPv4'
    ? { address, family, internal, netmask: '255.255.255.0', mac: '02:00:00:00:00:01', cidr: null }
    : {
        address,
        family,
        internal,
        netmask: 'ffff::',
        mac: '02:00:00:00:00:01',
        cidr: null,
        scopeid: 0,
      };

const interfaces = {
  lo: [addr('127.0.0.1', 'IPv4', true)],
  eth0: [addr('192.168.1.20'), addr('2001:db8::1', 'IPv6')],
  wlan0: [addr('10.0.0.5')],
  docker0: [addr('172.17.0.1')],
};

describe('selectMdnsAddresses', () => {
  it('uses every own IPv4 interface when none is configured, skipping loopback and engine bridges', () => {
    assert.deepEqual(selectMdnsAddresses(undefined, interfaces), [
      { interfaceName: 'eth0', address: '192.168.1.20' },
      { interfaceName: 'wlan0', address: '10.0.0.5' },
    ]);
  });

  it('uses exactly the configured interfaces, and never loopback even when configured', () => {
    assert.deepEqual(selectMdnsAddresses(['wlan0', 'lo', 'missing0'], interfaces), [
      { interfaceName: 'wlan0', address: '10.0.0.5' },
    ]);
    assert.deepEqual(selectMdnsAddresses(['lo'], interfaces), []);
  });
});
