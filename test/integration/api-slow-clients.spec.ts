/**
 * The API server's defence against slow clients (src/api/connection-deadlines.ts): a client that sends
 * its headers or its body a trickle at a time, never idle long enough for the inactivity timeout, is
 * cut off with 408 once the headers or request deadline passes, as Node's own check would; a client that
 * keeps a connection alive and sends whole requests is not. Node's 30 s connection-checking interval is
 * gone (it woke the idle agent for ever), so these deadlines now come from per-connection timers.
 * Real HTTP on loopback, through the server the agent opens (listenEarly, then the API handed over).
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { listenEarly } from '../../src/api/early-ping.js';
import { QUIET_SERVER_OPTIONS } from '../../src/api/connection-deadlines.js';

/** Sends `chunks` one every `everyMs` until the server closes; resolves with what the server sent. */
async function trickle(
  port: number,
  first: string,
  chunk: string,
  everyMs: number,
): Promise<string> {
  const socket: Socket = connect(port, '127.0.0.1');
  let received = '';
  let closed = false;
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (received += d));
  socket.on('error', () => undefined);
  const done = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  void done.then(() => (closed = true));
  socket.write(first);
  // Bounded: the test fails instead of hanging if nothing cuts the client off.
  for (let i = 0; i < 200 && !closed; i++) {
    await sleep(everyMs);
    if (!closed) socket.write(chunk);
  }
  socket.destroy();
  await done;
  return received;
}

describe('API server: slow clients are cut off, connections that work are not', function () {
  this.timeout(60_000);
  let server: Server;
  let port: number;

  before(async () => {
    const early = await listenEarly('127.0.0.1', 0);
    assert.ok(early !== undefined);
    server = early.server;
    // The inactivity timeout is far away: only the headers/request deadlines can end these connections.
    early.handOver((req, res) => {
      req.resume();
      req.on('end', () => res.end('answered'));
    }, 60_000);
    server.headersTimeout = 1_000;
    server.requestTimeout = 2_000;
    const address = server.address();
    assert.ok(typeof address === 'object' && address !== null);
    port = address.port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("does not keep Node's connection-checking interval (it fired every 30 s with nobody connected)", () => {
    // Set by createServer's options; @types/node does not declare the property.
    const { connectionsCheckingInterval } = server as Server & {
      connectionsCheckingInterval: number;
    };
    assert.equal(connectionsCheckingInterval, QUIET_SERVER_OPTIONS.connectionsCheckingInterval);
    assert.ok(connectionsCheckingInterval >= 2 ** 31 - 1);
  });

  it('cuts off a client that sends its headers a byte at a time (slowloris), with 408', async () => {
    const got = await trickle(port, 'GET /v2/version HTTP/1.1\r\nHost: x\r\nX-Slow: ', 'a', 100);
    assert.match(got, /^HTTP\/1\.1 408 /);
  });

  it('cuts off a client that sends its body a byte at a time, with 408', async () => {
    const got = await trickle(
      port,
      'POST /v1/blink HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n',
      'b',
      100,
    );
    assert.match(got, /^HTTP\/1\.1 408 /);
  });

  it('answers whole requests on a kept-alive connection for longer than the headers deadline', async () => {
    const socket = connect(port, '127.0.0.1');
    socket.setEncoding('utf8');
    let received = '';
    socket.on('data', (d: string) => (received += d));
    let answers = 0;
    // 15 requests, 150 ms apart: 2 s on one connection, twice the headers deadline.
    for (let i = 0; i < 15; i++) {
      socket.write('GET /v2/version HTTP/1.1\r\nHost: x\r\n\r\n');
      for (let w = 0; w < 100 && (received.match(/answered/g) ?? []).length <= answers; w++)
        await sleep(20);
      answers = (received.match(/answered/g) ?? []).length;
      await sleep(150);
    }
    assert.equal(answers, 15);
    assert.equal(socket.destroyed, false);
    assert.doesNotMatch(received, / 408 /);
    socket.destroy();
  });
});
