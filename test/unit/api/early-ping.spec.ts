/**
 * The early API server's wait before the rest of the agent loads (src/api/early-ping.ts): it ends at
 * the first request, on real HTTP, and otherwise after a grace that follows how long the process took
 * to open the port. The whole start-up order is tested on the built bundle in
 * test/e2e/start-up.spec.ts.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { firstRequestGraceMs, listenEarly } from '../../../src/api/early-ping.js';

describe('early /ping server: the wait for a first request', function () {
  it('is half the time the process took to open the port, within 10 ms and 1 s', function () {
    assert.equal(firstRequestGraceMs(100), 50);
    assert.equal(firstRequestGraceMs(3), 10);
    assert.equal(firstRequestGraceMs(60_000), 1_000);
  });

  it('ends when the first request is answered, long before the grace', async function () {
    const early = await listenEarly('127.0.0.1', 0);
    assert.ok(early);
    try {
      let ended = false;
      // A grace far longer than this test's timeout: only the request can end the wait.
      const waited = early.firstRequest(10 * 60_000).then(() => (ended = true));
      assert.equal(ended, false);
      const { port } = early.server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/ping`);
      assert.equal(await res.text(), 'OK');
      await waited;
      assert.equal(ended, true);
      // Once a request came, later waits end at once.
      await early.firstRequest(10 * 60_000);
    } finally {
      early.server.closeAllConnections();
      early.server.close();
    }
  });

  it('ends after the grace when nobody asks', async function () {
    const early = await listenEarly('127.0.0.1', 0);
    assert.ok(early);
    try {
      await early.firstRequest(10);
    } finally {
      early.server.close();
    }
  });
});
