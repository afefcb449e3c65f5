/** The cloud peer's own machinery: HTTPS with the CA it made, fault injection, the byte counter. */
import assert from 'node:assert/strict';
import { startCloudPeer, type CloudPeer } from '../../support/cloud-peer/index.js';
import { rawRequest } from '../../support/cloud-peer/raw-request.js';
import { waitUntil } from '../../support/cloud-peer/wait.js';

describe('cloud peer: TLS, faults and byte counting', function () {
  let peer: CloudPeer;
  const uuid = 'ab'.repeat(16);
  const key = 'k'.repeat(32);

  before(async function () {
    peer = await startCloudPeer({ minPollIntervalMs: 10_000 });
    peer.model.register(uuid, 'generic-amd64', key);
  });
  after(async () => peer.close());

  const get = (extra: { headers?: Record<string, string>; ca?: string | undefined } = {}) =>
    rawRequest(peer.url, {
      method: 'GET',
      path: `/device/v3/${uuid}/state`,
      headers: { Authorization: `Bearer ${key}`, ...extra.headers },
      ca: 'ca' in extra ? extra.ca : peer.caPem,
    });

  it('serves HTTPS with a certificate only its own CA vouches for', async function () {
    assert.match(peer.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await get()).status, 200);
    await assert.rejects(get({ ca: undefined }), /self-signed|unable to (get|verify)/i);
    assert.ok(
      Buffer.from(peer.balenaRootCA ?? '', 'base64')
        .toString()
        .includes('BEGIN CERTIFICATE'),
    );
  });

  it('answers 5xx, 429 with Retry-After, malformed JSON and a wrong content type on demand', async function () {
    peer.faults.add({ kind: 'status', status: 503 });
    assert.equal((await get()).status, 503);
    peer.faults.add({ kind: 'rate-limit', retryAfterSeconds: 42 });
    const limited = await get();
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['retry-after'], '42');
    peer.faults.add({ kind: 'malformed-json' });
    const broken = await get();
    assert.equal(broken.status, 200);
    assert.throws(() => JSON.parse(broken.body.toString()) as unknown);
    peer.faults.add({ kind: 'wrong-content-type' });
    assert.match(String((await get()).headers['content-type']), /^text\/html/);
    // Used up: the next answer is the real one.
    assert.equal((await get()).status, 200);
  });

  it('resets connections, holds requests unanswered, and trickles bodies', async function () {
    peer.faults.add({ kind: 'reset' });
    await assert.rejects(get(), /socket hang up|ECONNRESET/);
    peer.faults.add({ kind: 'timeout', method: 'GET' });
    const pending = get();
    // The held request is ended by the peer only when asked: drop it and see the client fail.
    await waitUntil(() => peer.faults.held.size === 1, 'the request to be held');
    peer.dropConnections();
    await assert.rejects(pending);
    peer.faults.add({ kind: 'slow-body', chunkDelayMs: 1, chunkBytes: 64 });
    const slow = await get();
    assert.equal(slow.status, 200);
    assert.ok(JSON.parse(slow.body.toString()) as unknown, 'the trickled body arrives whole');
  });

  it('counts the bytes on its sockets, TLS included, and full versus resumed handshakes', async function () {
    peer.resetBytes();
    await get();
    const bytes = peer.bytes();
    assert.ok(bytes.received > 300, `received ${bytes.received}`);
    assert.ok(bytes.sent > 1000, `sent ${bytes.sent} (certificate included)`);
    assert.equal(bytes.connections, 1);
    assert.equal(bytes.tlsFull, 1);
  });

  it('mounts extra routes before its own', async function () {
    const extra = await startCloudPeer({
      protocol: 'http',
      routes: [
        {
          method: 'POST',
          path: /^\/device\/v2\/([^/]+)\/log-stream$/,
          handle: (_req, res) => {
            res.writeHead(201);
            res.end();
          },
        },
      ],
    });
    try {
      const answer = await rawRequest(extra.url, {
        method: 'POST',
        path: `/device/v2/${uuid}/log-stream`,
        headers: {},
      });
      assert.equal(answer.status, 201);
      assert.match(extra.url, /^http:\/\//);
    } finally {
      await extra.close();
    }
  });
});
