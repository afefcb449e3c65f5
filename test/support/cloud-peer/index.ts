/**
 * A cloud peer for bosun's tests: the device side of the balena API (openBalena v49 rules, checked against
 * the recorded exchanges by test/integration/cloud-peer-replay.spec.ts), over HTTPS with a CA made at start
 * (or plain HTTP), with fault injection and a byte counter on its raw sockets (TLS included).
 *
 * Extend it with `routes`: they are tried before the built-in ones (the log stream lives in
 * ./log-stream.ts, mounted by whoever needs it).
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { makePeerTls, type PeerTls } from './certs.js';
export { makePeerTls, type PeerTls } from './certs.js';
import { deviceRoutes, type PeerRoute, type PeerRouteContext } from './device-routes.js';
import { applyFault, FaultQueue, trickle } from './faults.js';
import { PeerModel, type PeerDevice, type PeerFleet, type PeerRelease } from './model.js';

export type { PeerRoute, PeerRouteContext } from './device-routes.js';
export type { Fault, FaultKind } from './faults.js';
export type { PeerDevice, PeerFleet, PeerRelease, PeerService } from './model.js';
export { PeerModel } from './model.js';

export interface CloudPeerOptions {
  /** Default https, with a CA made now. */
  protocol?: 'https' | 'http';
  provisioningKey?: string;
  userToken?: string;
  fleet?: Partial<Pick<PeerFleet, 'id' | 'uuid' | 'name' | 'config' | 'env'>>;
  deviceTypes?: readonly string[];
  /** openBalena clamps the poll interval to its DEFAULT_SUPERVISOR_POLL_INTERVAL (10 min by default). */
  minPollIntervalMs?: number;
  deviceName?: (uuid: string) => string;
  /** Extra routes, tried before the built-in ones. */
  routes?: readonly PeerRoute[];
  now?: () => number;
  /** TLS material made earlier (makePeerTls), to spare a suite the key generation per peer. */
  tls?: PeerTls;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** Raw header names and values as sent (to check what the agent puts on the wire). */
  rawHeaders: string[];
  status: number | undefined;
}

export interface WireBytes {
  /** Bytes the peer read from and wrote to its TCP sockets (TLS records included). */
  received: number;
  sent: number;
  connections: number;
  /** TLS handshakes that resumed a session (no certificate exchange). */
  tlsResumed: number;
  tlsFull: number;
}

export interface CloudPeer {
  readonly url: string;
  readonly port: number;
  /** The CA's PEM (https only). */
  readonly caPem: string | undefined;
  /** config.json `balenaRootCA`: the CA's PEM, base64 (https only). */
  readonly balenaRootCA: string | undefined;
  readonly provisioningKey: string;
  readonly userToken: string;
  readonly model: PeerModel;
  readonly faults: FaultQueue;
  readonly requests: RecordedRequest[];
  setRelease(release: PeerRelease): void;
  device(uuid: string): PeerDevice | undefined;
  bytes(): WireBytes;
  resetBytes(): void;
  /** Drops every open connection (a cloud restart, as the device sees it). */
  dropConnections(): void;
  /** Stops listening and drops every connection: the device sees connection refused (an outage). */
  goOffline(): Promise<void>;
  /** Listens again on the same port, with the same state (devices, releases, CA). */
  comeBack(): Promise<void>;
  close(): Promise<void>;
}

export async function startCloudPeer(options: CloudPeerOptions = {}): Promise<CloudPeer> {
  const now = options.now ?? (() => Date.now());
  const model = new PeerModel(
    {
      id: options.fleet?.id ?? 1,
      uuid: options.fleet?.uuid ?? '1d3ca6b8e3f44bc7ad45d0b628b43554',
      name: options.fleet?.name ?? 'testfleet',
      releases: [],
      targetCommit: undefined,
      config: { ...(options.fleet?.config ?? {}) },
      env: { ...(options.fleet?.env ?? {}) },
    },
    new Set(options.deviceTypes ?? ['generic-amd64', 'generic-aarch64', 'raspberrypi4-64']),
    options.minPollIntervalMs ?? 600_000,
    options.deviceName ?? (() => 'aged-grass'),
    now,
  );
  const ctx: PeerRouteContext = {
    model,
    provisioningKey: options.provisioningKey ?? 'provisioningKey0123456789abcdef0',
    userToken: options.userToken ?? 'userToken0123456789abcdef0123456',
    now,
  };
  const routes = [...(options.routes ?? []), ...deviceRoutes];
  const faults = new FaultQueue();
  const requests: RecordedRequest[] = [];

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const record: RecordedRequest = {
      method,
      path,
      rawHeaders: [...req.rawHeaders],
      status: undefined,
    };
    requests.push(record);
    res.on('finish', () => (record.status = res.statusCode));
    const fault = faults.take(method, path);
    if (fault !== undefined) {
      if (applyFault(fault, req, res, faults) === 'handled') return;
      if (fault.kind === 'slow-body') trickle(res, fault.chunkDelayMs, fault.chunkBytes);
    }
    for (const route of routes) {
      if (route.method !== method) continue;
      const match = route.path.exec(path);
      if (match === null) continue;
      Promise.resolve(route.handle(req, res, match, ctx)).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(err));
      });
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('Not Found');
  };

  const protocol = options.protocol ?? 'https';
  const tls = protocol === 'https' ? (options.tls ?? makePeerTls()) : undefined;
  const server: Server =
    tls === undefined
      ? createHttpServer(handle)
      : createHttpsServer({ key: tls.keyPem, cert: tls.certPem }, handle);
  // As the recorded API: `Connection: keep-alive`, `Keep-Alive: timeout=5`.
  server.keepAliveTimeout = 5_000;

  const sockets = new Set<Socket>();
  const totals: WireBytes = { received: 0, sent: 0, connections: 0, tlsResumed: 0, tlsFull: 0 };
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    totals.connections += 1;
    socket.on('close', () => {
      totals.received += socket.bytesRead;
      totals.sent += socket.bytesWritten;
      sockets.delete(socket);
    });
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.isSessionReused()) totals.tlsResumed += 1;
    else totals.tlsFull += 1;
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  return {
    url: `${protocol}://127.0.0.1:${port}`,
    port,
    caPem: tls?.caPem,
    balenaRootCA: tls === undefined ? undefined : Buffer.from(tls.caPem).toString('base64'),
    provisioningKey: ctx.provisioningKey,
    userToken: ctx.userToken,
    model,
    faults,
    requests,
    setRelease: (release) => model.setRelease(release),
    device: (uuid) => model.devices.get(uuid),
    bytes: () => {
      let received = totals.received;
      let sent = totals.sent;
      for (const socket of sockets) {
        received += socket.bytesRead;
        sent += socket.bytesWritten;
      }
      return { ...totals, received, sent };
    },
    resetBytes: () => {
      // Live sockets keep counting from what they already carried: start the totals below zero by that.
      totals.received = 0;
      totals.sent = 0;
      for (const socket of sockets) {
        totals.received -= socket.bytesRead;
        totals.sent -= socket.bytesWritten;
      }
      totals.connections = 0;
      totals.tlsResumed = 0;
      totals.tlsFull = 0;
    },
    dropConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
    goOffline: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const res of faults.held) res.destroy();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    comeBack: () =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      }),
    close: async () => {
      for (const res of faults.held) res.destroy();
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
