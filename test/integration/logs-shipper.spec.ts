/**
 * The cloud log shipper against the one cloud peer (its log stream mounted) over real HTTPS, through the
 * cloud client's keep-alive connection and trust in the peer's CA: gzip NDJSON, acknowledgement by the
 * answer at the end of each request, at-least-once across a peer that is down, resets connections,
 * reads slowly or refuses the key; SUPERVISOR_LOG_CONTROL=false ships nothing.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudLogShipper, type BatchLimits } from '../../src/logs/cloud-log-shipper.js';
import type { LogMessage } from '../../src/logs/log-message.js';
import { LogSpool } from '../../src/logs/log-spool.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { CloudClient } from '../../src/cloud/cloud-client.js';
import { makePeerTls, type PeerTls } from '../support/cloud-peer/index.js';
import { startLogCloudPeer, type LogCloudPeer } from '../support/cloud-peer/with-log-stream.js';

const KEYS = { uuid: 'eb2186567468cac9c9e36edb05155041', deviceApiKey: 'k'.repeat(32) };

async function until(what: string, test: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function numbered(n: number): LogMessage {
  return { message: `n ${n}`, timestamp: 1_700_000_000_000 + n, serviceId: 7, serviceName: 'main' };
}

describe("cloud log shipper ↔ the cloud peer's log stream (real HTTPS)", function () {
  this.timeout(60_000);
  let dir: string;
  let peer: LogCloudPeer;
  let client: CloudClient;
  let tls: PeerTls;
  let spool: LogSpool;
  let shipper: CloudLogShipper | undefined;
  let enabled = true;
  let shippedLines = 0; // what the metrics hook is told
  let key = KEYS.deviceApiKey;

  before(() => {
    tls = makePeerTls(); // once: key generation per test would dominate its time
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bosun-shipper-'));
    // The one cloud peer, over HTTPS with its own CA, reached through the cloud client's connection.
    peer = await startLogCloudPeer({ tls });
    peer.registerDevice(KEYS.uuid, KEYS.deviceApiKey);
    client = new CloudClient({ endpoint: peer.url, rootCaBase64: peer.peer.balenaRootCA });
    spool = new LogSpool({
      dir,
      limits: { maxBytes: 64 * 1024 * 1024, maxServiceBytes: 64 * 1024 * 1024 },
      logger: silentLogger(),
      now: Date.now,
    });
    enabled = true;
    shippedLines = 0;
    key = KEYS.deviceApiKey;
  });
  afterEach(async () => {
    await shipper?.stop();
    shipper = undefined;
    spool.close();
    client.close();
    client.close();
    await peer.close();
    await rm(dir, { recursive: true, force: true });
  });

  function ship(batch: Partial<BatchLimits> = {}): CloudLogShipper {
    shipper = new CloudLogShipper({
      spool,
      credentials: () => ({ endpoint: peer.url, uuid: KEYS.uuid, deviceApiKey: key }),
      enabled: () => enabled,
      agentFor: (url) => client.agentFor(url),
      onShipped: (lines) => (shippedLines += lines),
      clock: systemClock,
      logger: silentLogger(),
      batch: { maxLines: 1000, maxBytes: 256 * 1024, maxAgeMs: 300, ...batch },
      backoff: { baseMs: 50, maxMs: 400 },
    });
    shipper.start();
    return shipper;
  }

  function received(): number[] {
    return peer.logs.lines.filter((l) => l.serviceId === 7).map((l) => Number(l.message.slice(2)));
  }

  it('streams gzip NDJSON in order; each request is answered 201 and only then acknowledged', async () => {
    ship();
    for (let n = 1; n <= 5000; n++) spool.publish(numbered(n));
    spool.publish({ message: 'Supervisor starting', timestamp: 1, isSystem: true });
    spool.publish({ message: 'no service id', timestamp: 2, serviceName: 'orphan' });
    await until('all acknowledged', () => spool.acknowledged === spool.lastId && spool.lastId > 0);
    assert.deepEqual(
      received(),
      Array.from({ length: 5000 }, (_, i) => i + 1),
    );
    assert.ok(peer.logs.lines.some((l) => l.isSystem && l.message === 'Supervisor starting'));
    assert.ok(
      !peer.logs.messages().includes('no service id'),
      'lines without serviceId are not sent',
    );
    assert.ok(peer.logs.requests.length >= 5, 'batches of at most 1000 lines');
    assert.ok(peer.logs.requests.every((r) => r.fate === 'answered' && r.status === 201));
    assert.ok(peer.logs.wireBytes < peer.logs.decodedBytes / 3, 'the body is compressed');
    assert.equal(
      shippedLines,
      peer.logs.lines.length,
      'the metrics hook counts what the cloud took',
    );
  });

  it('keeps lines while the peer is down and delivers them all after, repeating only cut batches', async () => {
    ship();
    for (let n = 1; n <= 2000; n++) spool.publish(numbered(n));
    await until('first lines', () => received().length > 0);
    peer.setDown(true);
    const answeredBeforeDown = peer.logs.requests.filter((r) => r.status === 201).length;
    for (let n = 2001; n <= 4000; n++) spool.publish(numbered(n));
    await new Promise((r) => setTimeout(r, 1200));
    // No timing race here: a batch answered just before the outage may still be acknowledged, but
    // nothing is answered while down, and nothing is acknowledged that the cloud does not hold.
    assert.equal(
      peer.logs.requests.filter((r) => r.status === 201).length,
      answeredBeforeDown,
      'nothing is answered while the peer is down',
    );
    assert.ok(spool.acknowledged < 4000, 'the lines published during the outage wait');
    assert.ok(
      new Set(received()).size >= spool.acknowledged,
      'every acknowledged line is at the peer (ids are the numbers here)',
    );
    peer.setDown(false);
    await until('all acknowledged', () => spool.acknowledged === spool.lastId);
    assertInOrderWithRepeatsFromCutRequests(peer);
  });

  it('a connection reset in the middle of a batch repeats that batch only', async () => {
    ship();
    peer.logs.resetNextAfterBytes = 20_000;
    for (let n = 1; n <= 3000; n++) spool.publish(numbered(n));
    await until('all acknowledged', () => spool.acknowledged === spool.lastId && spool.lastId > 0);
    assert.ok(peer.logs.requests.some((r) => r.fate === 'cut'));
    assertInOrderWithRepeatsFromCutRequests(peer);
  });

  it('a slow peer pushes back: lines wait in the spool, none is lost or repeated', async () => {
    peer.logs.slowMs = 30;
    ship({ maxLines: 2000, maxBytes: 2 * 1024 * 1024, maxAgeMs: 2000 });
    for (let n = 1; n <= 3000; n++)
      spool.publish({ ...numbered(n), message: `n ${n} ${'q'.repeat(300)}` });
    await until(
      'all acknowledged',
      () => spool.acknowledged === spool.lastId && spool.lastId > 0,
      50_000,
    );
    const got = peer.logs.lines.map((l) => Number(l.message.split(' ')[1]));
    assert.deepEqual(
      got,
      Array.from({ length: 3000 }, (_, i) => i + 1),
    );
  });

  it('a refused key acknowledges nothing and is retried; the right key then delivers everything once', async () => {
    key = 'wrong'.padEnd(32, '0');
    ship();
    for (let n = 1; n <= 100; n++) spool.publish(numbered(n));
    await until(
      'a few refusals',
      () => peer.logs.requests.filter((r) => r.status === 401).length >= 2,
    );
    assert.equal(spool.acknowledged, 0);
    assert.equal(peer.logs.lines.length, 0);
    key = KEYS.deviceApiKey;
    await until('all acknowledged', () => spool.acknowledged === spool.lastId && spool.lastId > 0);
    assert.deepEqual(
      received(),
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
  });

  it('odd bytes, control characters and a cut 1 MB line go through without breaking the stream', async () => {
    ship();
    const odd = [
      'bad \uFFFD utf8',
      'nul \u0000 esc \u001b[0m',
      '\ud800 lone',
      'x'.repeat(1024 * 1024),
    ];
    for (const [i, message] of odd.entries()) spool.publish({ ...numbered(i), message });
    spool.publish(numbered(99));
    await until('all acknowledged', () => spool.acknowledged === spool.lastId && spool.lastId > 0);
    const got = peer.logs.lines.map((l) => l.message);
    assert.equal(got.length, 5);
    assert.equal(got[0], odd[0]);
    assert.equal(got[1], odd[1]);
    assert.equal(got[2], odd[2], 'a lone surrogate travels JSON-escaped');
    assert.equal(got[3]?.length, 10_000);
    assert.equal(got[4], 'n 99');
    assert.ok(peer.logs.requests.every((r) => r.status === 201));
  });

  it('with SUPERVISOR_LOG_CONTROL=false nothing is shipped, and those lines are never shipped later', async () => {
    enabled = false;
    ship();
    for (let n = 1; n <= 100; n++) spool.publish(numbered(n));
    await until(
      'marked as not for the cloud',
      () => spool.lastId > 0 && spool.acknowledged === spool.lastId,
    );
    enabled = true;
    for (let n = 101; n <= 110; n++) spool.publish(numbered(n));
    await until(
      'new lines acknowledged',
      () => spool.acknowledged === spool.lastId && received().length > 0,
    );
    assert.deepEqual(
      received(),
      Array.from({ length: 10 }, (_, i) => i + 101),
    );
  });
});

/** Numbers in order; a number seen twice only when its first copy came in a request that was cut. */
function assertInOrderWithRepeatsFromCutRequests(peer: LogCloudPeer): void {
  const lines = peer.logs.lines.filter((l) => l.serviceId === 7);
  const seen = new Set<number>();
  let expected = 1;
  const firstRequest = new Map<number, number>();
  for (const l of lines) {
    const n = Number(l.message.slice(2));
    if (seen.has(n)) {
      const first = firstRequest.get(n) as number;
      assert.equal(
        peer.logs.requests[first]?.fate,
        'cut',
        `line ${n} repeated from an answered request`,
      );
      continue;
    }
    assert.equal(n, expected, 'in order, no gap');
    seen.add(n);
    firstRequest.set(n, l.request);
    expected++;
  }
}
