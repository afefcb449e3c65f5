/**
 * The cloud client resolves its host through the lookup main.ts gives it: the system resolver, then
 * multicast DNS for a `*.local` name the system cannot resolve (a local openBalena on the LAN). Real HTTP
 * on loopback; the mDNS answer itself is injected here (the resolver's own queries are tested in a
 * network namespace by test/unit/device/mdns.spec.ts).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudClient } from '../../../src/cloud/cloud-client.js';
import { mdnsFallbackLookup } from '../../../src/device/mdns-resolver.js';

/** The system resolver for this test: knows nothing (no DNS query leaves the machine). */
const systemKnowsNothing: Parameters<typeof mdnsFallbackLookup>[0] = (
  hostname,
  _options,
  callback,
) => {
  const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
  err.code = 'ENOTFOUND';
  callback(err, '', undefined);
};

describe('cloud client: host name resolution', function () {
  let server: Server;
  let port: number;
  const asked: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`host ${req.headers.host ?? ''}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reaches a `.local` cloud the system resolver does not know, through the mDNS fallback', async () => {
    const lookup = mdnsFallbackLookup(systemKnowsNothing, (name) => {
      asked.push(name);
      return Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
    });
    const client = new CloudClient({ endpoint: `http://bosun-cloud-test.local:${port}`, lookup });
    const answer = await client.request({ method: 'GET', path: '/ping', key: undefined });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.toString(), `host bosun-cloud-test.local:${port}`);
    assert.deepEqual(asked, ['bosun-cloud-test.local'], 'mDNS asked once, for the cloud host');
  });

  it('fails with CLOUD_UNREACHABLE when nobody answers for the name', async () => {
    const lookup = mdnsFallbackLookup(systemKnowsNothing, () => Promise.resolve([]));
    const client = new CloudClient({ endpoint: `http://bosun-nobody.local:${port}`, lookup });
    await assert.rejects(client.request({ method: 'GET', path: '/ping', key: undefined }), {
      code: 'CLOUD_UNREACHABLE',
    });
  });
});
