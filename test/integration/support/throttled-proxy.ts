/**
 * A TCP proxy on 127.0.0.1 that slows what flows back to the client down to `bytesPerSecond`, shared by
 * all its connections (the engine downloads several layers at once): a slow link in front of the local
 * test registry, so that a pull takes as long as a test needs. Requests pass through unthrottled.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface ThrottledProxy {
  /** `127.0.0.1:<port>`: use it as the registry host of an image reference. */
  readonly host: string;
  /** When the first client connected (epoch ms), or undefined before. */
  firstConnectionAt(): number | undefined;
  close(): Promise<void>;
}

export async function throttledProxy(
  upstream: { host: string; port: number },
  bytesPerSecond: number,
): Promise<ThrottledProxy> {
  const sockets = new Set<Socket>();
  let firstAt: number | undefined;
  // The time the shared link is busy until: each chunk waits for its turn, so all connections together
  // never get more than bytesPerSecond.
  let busyUntil = 0;
  const server: Server = createServer((client) => {
    firstAt ??= Date.now();
    const remote = connect(upstream.port, upstream.host);
    sockets.add(client);
    sockets.add(remote);
    const forget = (): void => {
      sockets.delete(client);
      sockets.delete(remote);
    };
    // The client side closing ends everything at once; the registry side closing ends the client only
    // once the throttled bytes before it have gone out (an early close would look like a cut link).
    client
      .on('error', () => remote.destroy())
      .on('close', () => {
        remote.destroy();
        forget();
      });
    let ended = false;
    const endClient = (): void => {
      if (ended) return;
      ended = true;
      setTimeout(() => client.end(), Math.max(0, busyUntil - Date.now()) + 5);
    };
    remote.on('error', endClient).on('end', endClient).on('close', endClient);
    client.pipe(remote);
    remote.on('data', (chunk: Buffer) => {
      const now = Date.now();
      const start = Math.max(now, busyUntil);
      busyUntil = start + (chunk.length / bytesPerSecond) * 1000;
      remote.pause();
      setTimeout(() => {
        if (client.destroyed) return;
        client.write(chunk);
        remote.resume();
      }, busyUntil - now);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    host: `127.0.0.1:${address.port}`,
    firstConnectionAt: () => firstAt,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
