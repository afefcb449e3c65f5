/**
 * The local API against a hostile web page on the LAN (issue 8): cross-site form posts, foreign origins,
 * DNS rebinding (a foreign Host name) and non-JSON bodies are refused before anything is stored or
 * applied; balena-cli's own requests (no Origin, IP literal Host, application/json) keep working.
 * Real HTTP (node:http, so the Host header can be set as a browser would send it) over the real agent.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { cliCall } from '../support/balena-cli.js';
import { requireDocker } from '../support/docker.js';
import { startHarness, type Harness } from './api-harness.js';

interface RawReply {
  status: number;
  contentType: string;
  text: string;
}

function raw(
  h: Harness,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<RawReply> {
  const url = new URL(h.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method, path, headers, setHost: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * What a web page's `<form method=post action=http://<device>:48484/v2/local/target-state>` sends: a
 * urlencoded body (qs-style nesting) describing a service that mounts the engine socket.
 */
function hostileForm(): string {
  const p = 'local[apps][1][services][1]';
  return new URLSearchParams({
    'local[name]': 'pwned',
    'local[apps][1][name]': 'evil',
    'local[apps][1][commit]': 'deadbeef',
    'local[apps][1][releaseId]': '1',
    [`${p}[serviceName]`]: 'root',
    [`${p}[serviceId]`]: '1',
    [`${p}[imageId]`]: '1',
    [`${p}[image]`]: 'busybox',
    [`${p}[running]`]: 'true',
    [`${p}[volumes][0]`]: '/var/run/docker.sock:/var/run/docker.sock',
    [`${p}[labels][io.balena.features.balena-socket]`]: '1',
  }).toString();
}

describe('local API: cross-site requests and DNS rebinding', function () {
  this.timeout(30_000);
  let h: Harness;
  let host: string;

  before(async () => {
    await requireDocker();
    h = await startHarness();
    h.settings.localMode = true;
    host = new URL(h.url).host;
  });
  after(async () => h?.close());

  async function nothingChanged(): Promise<void> {
    assert.equal(await h.store.targets.load({ kind: 'local' }), undefined, 'a target was stored');
    assert.deepEqual(h.reconciler.applies, [], 'an apply was triggered');
  }

  it('a form post from a foreign origin to POST /v2/local/target-state is refused; nothing is stored or started', async () => {
    const r = await raw(
      h,
      'POST',
      '/v2/local/target-state',
      {
        host,
        origin: 'http://evil.example.com',
        'sec-fetch-site': 'cross-site',
        'content-type': 'application/x-www-form-urlencoded',
      },
      hostileForm(),
    );
    assert.equal(r.status, 403, r.text);
    assert.match(r.contentType, /application\/json/);
    assert.match(JSON.parse(r.text).message, /evil\.example\.com|cross-site/);
    await nothingChanged();
  });

  it('a form-encoded or text/plain body is 415 JSON even without an Origin; nothing is stored', async () => {
    for (const type of [
      'application/x-www-form-urlencoded',
      'text/plain',
      'multipart/form-data; boundary=x',
    ]) {
      const r = await raw(
        h,
        'POST',
        '/v2/local/target-state',
        { host, 'content-type': type },
        type.startsWith('application/x-www') ? hostileForm() : '{"local":{}}',
      );
      assert.equal(r.status, 415, `${type}: ${r.text}`);
      assert.match(r.contentType, /application\/json/);
      assert.match(JSON.parse(r.text).message, /application\/json/);
    }
    // No Content-Type but a body: also refused (the body would otherwise be ignored and defaults applied).
    const bare = await raw(
      h,
      'POST',
      '/v2/local/target-state',
      { host, 'content-length': '2' },
      '{}',
    );
    assert.equal(bare.status, 415, bare.text);
    await nothingChanged();
  });

  it('browser requests from other origins are refused on every method (Origin or Sec-Fetch-Site)', async () => {
    const cases: Array<Record<string, string>> = [
      { origin: 'http://evil.example.com' },
      { origin: 'null' },
      { origin: `http://${host.replace(/:\d+$/, ':1')}` }, // same host, other port: another origin
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of cases) {
      const r = await raw(h, 'GET', '/v2/state/status', { host, ...headers });
      assert.equal(r.status, 403, `${JSON.stringify(headers)}: ${r.text}`);
      assert.match(r.contentType, /application\/json/);
    }
  });

  it('the same origin, a typed URL (Sec-Fetch-Site: none) and no browser headers pass', async () => {
    const passing: Array<Record<string, string>> = [
      { origin: `http://${host}`, 'sec-fetch-site': 'same-origin' },
      { 'sec-fetch-site': 'none' },
      {},
    ];
    for (const headers of passing) {
      const r = await raw(h, 'GET', '/v2/state/status', { host, ...headers });
      assert.equal(r.status, 200, `${JSON.stringify(headers)}: ${r.text}`);
    }
  });

  it('a Host that is not a name of this device is refused (DNS rebinding); addresses and device names pass', async () => {
    const port = new URL(h.url).port;
    for (const bad of [
      `evil.example.com:${port}`,
      'rebind.attacker.net',
      'localhost.evil.com',
      `bosun-dev.evil.com:${port}`,
      'a b',
      '',
    ]) {
      const r = await raw(h, 'GET', '/v2/state/status', { host: bad });
      assert.equal(r.status, 403, `Host '${bad}': ${r.text}`);
    }
    for (const good of [
      `127.0.0.1:${port}`,
      `192.168.1.20:${port}`,
      `[::1]:${port}`,
      '[fe80::1]',
      `localhost:${port}`,
      `abc1234.local:${port}`,
      'ABC1234.LOCAL.',
      `bosun-dev:${port}`, // the device's hostname (MemoryDevice.name)
    ]) {
      const r = await raw(h, 'GET', '/v2/state/status', { host: good });
      assert.equal(r.status, 200, `Host '${good}': ${r.text}`);
    }
  });

  it("balena-cli's own requests (no Origin, IP Host, JSON body) still work", async () => {
    const version = (await cliCall(h.url, 'GET', '/v2/version')) as { status: string };
    assert.equal(version.status, 'success');
    const state = (await cliCall(h.url, 'GET', '/v2/local/target-state')) as { status: string };
    assert.equal(state.status, 'success');
    const posted = (await cliCall(h.url, 'POST', '/v2/local/target-state', {
      local: { name: 'my-device', config: {}, apps: {} },
    })) as { status: string };
    assert.equal(posted.status, 'success');
    assert.deepEqual(h.reconciler.applies, [{ force: false }]);
  });
});
