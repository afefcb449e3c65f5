/**
 * The API's port opens before the rest of the agent is loaded. `GET /ping` is how balena-cli, the
 * engine's healthcheck and a watchdog decide whether the agent is alive, so it answers from the first
 * moment; everything else the agent does (schemas, store, engine client, logs) loads right after, and
 * the real API takes over this same server. Requests that arrive in between are held (a bounded number)
 * and handed to the API once it is up, so a client that is quicker than start-up gets its answer late,
 * not an error.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { BosunError } from '../shared/errors.js';
import { guardConnectionDeadlines, QUIET_SERVER_OPTIONS } from './connection-deadlines.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Requests held until the API is up; more get 503 AGENT_STARTING with Retry-After. */
const MAX_HELD = 64;

/**
 * How long the port stays open with nothing else running before the rest of the agent loads, for a
 * client already waiting on the port (a watchdog, balena-cli, a healthcheck retrying) to be answered.
 * From Node 22 on, importing the main chunk is synchronous: the event loop does not turn again until it
 * has loaded and run (~0.2 s on a quiet x64, seconds on a loaded Pi), so a connection that arrives
 * meanwhile waits for all of it. How soon a polling client gets through depends on how busy the machine
 * is, and the time this process needed to open the port measures exactly that: the wait is half of it
 * (a client that connects by 1.5 times that time is answered first), within 10 ms–1 s. The first request
 * ends the wait at once, so it costs time only when nobody asks (BENCHMARKS.md, "Node lines").
 */
export function firstRequestGraceMs(msSinceProcessStart: number): number {
  return Math.min(1_000, Math.max(10, Math.round(msSinceProcessStart / 2)));
}

export interface EarlyApi {
  readonly server: Server;
  /**
   * Resolves once the first request has been answered or held, or after `graceMs`: the moment to load
   * the rest (see firstRequestGraceMs).
   */
  firstRequest(graceMs: number): Promise<void>;
  /**
   * The API is ready: it takes every later request and the ones held until now. `socketTimeoutMs` is
   * the API's idle timeout (config.json apiTimeout): connections opened early get it too.
   */
  handOver(api: RequestHandler, socketTimeoutMs: number): void;
}

/** Undefined when the port cannot be opened now: the normal start-up then opens it and says why not. */
export async function listenEarly(host: string, port: number): Promise<EarlyApi | undefined> {
  let api: RequestHandler | undefined;
  const held = new Set<{ req: IncomingMessage; res: ServerResponse }>();
  // Connections opened before the hand-over, to give them the API's idle timeout then.
  const early = new Set<Socket>();
  let served = false;
  let onServed: (() => void) | undefined;
  const server = createServer(QUIET_SERVER_OPTIONS, (req, res) => {
    if (api !== undefined) return api(req, res);
    served = true;
    onServed?.();
    const path = (req.url ?? '').split('?')[0];
    if ((req.method === 'GET' || req.method === 'HEAD') && path === '/ping') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': '2' });
      res.end(req.method === 'HEAD' ? undefined : 'OK');
      return;
    }
    if (held.size >= MAX_HELD) {
      const error = new BosunError(
        'AGENT_STARTING',
        'The agent is starting; try again in a moment',
      );
      res.writeHead(error.httpStatus, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(JSON.stringify({ status: 'failed', message: error.message }));
      return;
    }
    const entry = { req, res };
    held.add(entry);
    res.once('close', () => held.delete(entry));
  });
  const track = (socket: Socket): void => {
    early.add(socket);
    socket.once('close', () => early.delete(socket));
  };
  server.on('connection', track);
  guardConnectionDeadlines(server);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch {
    server.close();
    return undefined;
  }
  return {
    server,
    firstRequest(graceMs) {
      if (served) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, graceMs);
        function done(): void {
          clearTimeout(timer);
          onServed = undefined;
          // One more turn, so the answer's bytes leave before the loop is busy loading.
          setImmediate(resolve);
        }
        onServed = done;
      });
    },
    handOver(next, socketTimeoutMs) {
      api = next;
      server.off('connection', track);
      server.setTimeout(socketTimeoutMs);
      for (const socket of early) socket.setTimeout(socketTimeoutMs);
      early.clear();
      for (const entry of [...held]) {
        held.delete(entry);
        if (!entry.res.destroyed) next(entry.req, entry.res);
      }
    },
  };
}
