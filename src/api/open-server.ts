/**
 * The API's server: the one src/start.ts opened early (it already answers `/ping`) when it listens where
 * the settings say, else a new one. The early server is closed when the settings point elsewhere (a
 * config.json the early read could not judge), so there is never a second listener.
 */
import { createServer, type Server } from 'node:http';
import type { Express } from 'express';
import { guardConnectionDeadlines, QUIET_SERVER_OPTIONS } from './connection-deadlines.js';
import type { EarlyApi } from './early-ping.js';

export async function openApiServer(
  app: Express,
  address: { host: string; port: number },
  early: EarlyApi | undefined,
  socketTimeoutMs: number,
): Promise<Server> {
  if (early !== undefined) {
    const bound = early.server.address();
    const samePort =
      address.port === 0 || (typeof bound === 'object' && bound?.port === address.port);
    if (samePort) {
      early.handOver(app, socketTimeoutMs);
      return early.server;
    }
    await new Promise<void>((resolve) => early.server.close(() => resolve()));
  }
  const server = createServer(QUIET_SERVER_OPTIONS, app);
  guardConnectionDeadlines(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.setTimeout(socketTimeoutMs);
  return server;
}
