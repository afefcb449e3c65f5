/**
 * A small stand-alone HTTP server on loopback that serves only the log stream route, for log tests
 * until the shared cloud peer (test/support/cloud-peer, `startCloudPeer`) can mount `logStreamRoute`.
 * Going down closes the listening socket too, so a reconnect is refused like an unreachable cloud.
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { logStreamRoute, LogStreamState } from './log-stream.js';

export interface LogStreamPeer {
  state: LogStreamState;
  url: string;
  port: number;
  /** Down: open streams are reset and new connections refused. */
  setDown(down: boolean): Promise<void>;
  close(): Promise<void>;
}

export async function startLogStreamPeer(
  keys: { uuid: string; deviceApiKey: string },
  port = 0,
): Promise<LogStreamPeer> {
  const state = new LogStreamState(keys);
  const route = logStreamRoute(state);
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    if (!route(req, res)) res.writeHead(404).end();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 5000; // as the real API (Keep-Alive: timeout=5)
  const listen = (s: Server, p: number): Promise<number> =>
    new Promise((resolve, reject) => {
      s.once('error', reject);
      s.listen(p, '127.0.0.1', () => {
        const address = s.address();
        resolve(typeof address === 'object' && address ? address.port : p);
      });
    });
  const bound = await listen(server, port);
  let listening = true;
  return {
    state,
    port: bound,
    url: `http://127.0.0.1:${bound}`,
    async setDown(down) {
      state.setDown(down);
      if (down && listening) {
        listening = false;
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      } else if (!down && !listening) {
        await listen(server, bound);
        listening = true;
      }
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      if (listening) await new Promise<void>((resolve) => server.close(() => resolve()));
      listening = false;
    },
  };
}
