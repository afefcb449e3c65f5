/**
 * Slow clients are still cut off, without a timer that runs while nobody is connected.
 *
 * Node enforces an HTTP server's `headersTimeout` (a client must finish sending a request's headers in
 * time: the slowloris defence) and `requestTimeout` (the whole request) from one interval per server,
 * `connectionsCheckingInterval`, 30 s by default, that fires for the server's whole life, also with no
 * connection open: the largest source of wake-ups left on an idle agent (issue 16). Here the same two
 * limits are kept with timers that exist only while a connection waits for something from its client:
 *  - from the moment a connection opens, and again after each response (keep-alive), until the next
 *    request's headers have arrived: `server.headersTimeout`;
 *  - after the headers of a request that has a body, until that body has arrived (or the response is
 *    done): `server.requestTimeout`.
 * A connection past its deadline gets `408 Request Timeout` and is closed, as Node does. Long-lived
 * answers (the log stream) have their headers and carry no body, so no timer runs while they stream.
 * The socket inactivity timeout (config.json apiTimeout, `server.setTimeout`) is separate and unchanged.
 */
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Options for `createServer`: Node's own check runs at the largest interval a timer allows (~24.8 days,
 * in effect never: the guard below does its work). Zero or a larger value are not accepted by Node.
 */
export const QUIET_SERVER_OPTIONS: ServerOptions = { connectionsCheckingInterval: 2 ** 31 - 1 };

const REQUEST_TIMEOUT_ANSWER =
  'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

/** Arms the per-connection deadlines on `server` (made with QUIET_SERVER_OPTIONS). */
export function guardConnectionDeadlines(server: Server): void {
  const timers = new WeakMap<Socket, NodeJS.Timeout>();
  const disarm = (socket: Socket): void => {
    clearTimeout(timers.get(socket));
    timers.delete(socket);
  };
  const arm = (socket: Socket, ms: number): void => {
    disarm(socket);
    if (ms <= 0 || socket.destroyed) return;
    const timer = setTimeout(() => {
      timers.delete(socket);
      // Nothing of a response is on the wire in either phase, so a whole 408 can be sent.
      if (socket.writable) socket.end(REQUEST_TIMEOUT_ANSWER, () => socket.destroy());
      else socket.destroy();
    }, ms);
    timers.set(socket, timer);
  };
  server.on('connection', (socket: Socket) => {
    arm(socket, server.headersTimeout);
    socket.once('close', () => disarm(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    disarm(socket);
    const hasBody =
      req.headers['transfer-encoding'] !== undefined ||
      Number(req.headers['content-length'] ?? 0) > 0;
    if (hasBody) {
      arm(socket, server.requestTimeout);
      req.once('end', () => disarm(socket));
    }
    res.once('finish', () => {
      // Keep-alive: the next request's headers are awaited under the same limit as the first's.
      if (!socket.destroyed) arm(socket, server.headersTimeout);
      else disarm(socket);
    });
    res.once('close', () => {
      if (!res.writableFinished) disarm(socket);
    });
  });
}
