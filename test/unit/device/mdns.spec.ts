import assert from 'node:assert/strict';
import type { LookupOptions } from 'node:dns';
import type { NetworkInterfaceInfo } from 'node:os';
import { mdnsFallbackLookup, type LookupFunction } from '../../../src/device/mdns-resolver.js';
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

describe('mdnsFallbackLookup', () => {
  const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
  const failing: LookupFunction = (_host, _options, callback) => callback(notFound, '', undefined);
  const lookup = (fn: LookupFunction, host: string, options: LookupOptions): Promise<unknown[]> =>
    new Promise((resolve) => fn(host, options, (...args) => resolve(args)));

  it('asks mDNS only for .local names the system resolver could not resolve, honouring family and all', async () => {
    const asked: Array<[string, unknown]> = [];
    const fn = mdnsFallbackLookup(failing, (name, options) => {
      asked.push([name, options.family]);
      return Promise.resolve([
        { address: '10.0.0.7', family: 4 },
        { address: 'fd00::7', family: 6 },
      ]);
    });
    assert.deepEqual(await lookup(fn, 'abc1234.local', { family: 4 }), [null, '10.0.0.7', 4]);
    assert.deepEqual(await lookup(fn, 'abc1234.local', { all: true }), [
      null,
      [
        { address: '10.0.0.7', family: 4 },
        { address: 'fd00::7', family: 6 },
      ],
    ]);
    assert.deepEqual(await lookup(fn, 'api.example.com', {}), [notFound, '', undefined]);
    assert.deepEqual(asked, [
      ['abc1234.local', 4],
      ['abc1234.local', undefined],
    ]);
  });

  it('keeps the system answer when there is one, and the system error when mDNS finds nothing', async () => {
    const system: LookupFunction = (_host, _options, callback) => callback(null, '192.168.1.9', 4);
    const never = mdnsFallbackLookup(system, () => Promise.reject(new Error('must not be asked')));
    assert.deepEqual(await lookup(never, 'printer.local', {}), [null, '192.168.1.9', 4]);
    const nobody = mdnsFallbackLookup(failing, () => Promise.resolve([]));
    const [err] = await lookup(nobody, 'ghost.local', {});
    assert.equal(err, notFound);
  });
});
