/**
 * The cloud peer's log stream endpoint, `POST /device/v2/:uuid/log-stream`, following what the real
 * openBalena API (v49) did in the recorded exchanges (/work/shared/fixtures/cloud/README.md):
 * - 401 `{"error":"API key required"}` for a wrong key; 415 with a JSON string for a Content-Type other
 *   than application/x-ndjson; plain or gzip (`Content-Encoding: gzip`) bodies;
 * - lines are stored while the stream is still open; a line with a non-number `serviceId` is dropped
 *   silently; a line that is not JSON ends the stream with 400 `Could not parse row <line>...` (lines
 *   before it kept);
 * - the answer (201, empty body) comes only when the request body ends.
 * On request it is down (connections reset at once, open streams cut), resets the connection after so
 * many bytes, or reads slowly (pauses after each chunk, so TCP pushes back on the agent). It counts
 * the bytes it received on the wire and decoded, and keeps each request's fate (answered or cut) so
 * tests can tell a batch that was in flight from one that was acknowledged.
 *
 * The handler is plain Node (req, res) → handled?; the one cloud peer mounts it as a route
 * (`startLogCloudPeer` in ./with-log-stream.ts), so target, reports and logs share one server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createGunzip } from 'node:zlib';

export interface StoredLogLine {
  /** Which request carried it (index into `requests`). */
  request: number;
  message: string;
  timestamp: number;
  isSystem: boolean;
  isStdErr: boolean;
  serviceId?: number;
}

export interface LogStreamRequest {
  uuid: string;
  lines: number;
  /** 'answered' once the 201 (or an error status) was sent; 'cut' when the connection went away first. */
  fate: 'open' | 'answered' | 'cut';
  status?: number;
}

export class LogStreamState {
  readonly lines: StoredLogLine[] = [];
  readonly requests: LogStreamRequest[] = [];
  wireBytes = 0;
  decodedBytes = 0;
  /** Down: every request is reset at once and open streams are cut. */
  down = false;
  /** Pause this long after each received chunk (0 = read at full speed). */
  slowMs = 0;
  /** Reset the connection of the next request once it has sent this many decoded bytes. */
  resetNextAfterBytes: number | undefined;
  private readonly open = new Set<IncomingMessage>();

  /**
   * `keys`: the one device allowed to stream; or a function deciding per request (the shared cloud peer
   * passes one that looks the device key up in its model).
   */
  constructor(
    readonly keys:
      | { uuid: string; deviceApiKey: string }
      | ((uuid: string, authorization: string | undefined) => boolean),
  ) {}

  /** @internal */
  authorized(uuid: string, authorization: string | undefined): boolean {
    if (typeof this.keys === 'function') return this.keys(uuid, authorization);
    return authorization === `Bearer ${this.keys.deviceApiKey}` && uuid === this.keys.uuid;
  }

  setDown(down: boolean): void {
    this.down = down;
    if (down) for (const req of this.open) req.socket.destroy();
  }

  /** Every line's message in arrival order. */
  messages(): string[] {
    return this.lines.map((l) => l.message);
  }

  /** @internal */
  track(req: IncomingMessage): () => void {
    this.open.add(req);
    return () => this.open.delete(req);
  }
}

const PATH = /^\/device\/v2\/([^/]+)\/log-stream$/;
/** Longest line the peer parses; longer is a client bug here (bosun cuts at 10,000 characters). */
const MAX_LINE = 1024 * 1024;

export type PeerRouteHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

export function logStreamRoute(state: LogStreamState): PeerRouteHandler {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://peer');
    const match = PATH.exec(url.pathname);
    if (req.method !== 'POST' || match === null) return false;
    if (state.down) {
      req.socket.destroy();
      return true;
    }
    const uuid = decodeURIComponent(match[1] as string);
    const refuse = (status: number, body: unknown): true => {
      state.requests.push({ uuid, lines: 0, fate: 'answered', status });
      sendJson(res, status, body);
      return true;
    };
    if (!state.authorized(uuid, req.headers.authorization))
      return refuse(401, { error: 'API key required' });
    if ((req.headers['content-type'] ?? '').split(';')[0]?.trim() !== 'application/x-ndjson')
      return refuse(415, 'Streaming requests require Content-Type application/x-ndjson');
    receive(state, uuid, req, res);
    return true;
  };
}

/** The same handler as one of the cloud peer's routes (`startCloudPeer({ routes: [...] })`). */
export function logStreamPeerRoute(state: LogStreamState): {
  method: string;
  path: RegExp;
  handle(req: IncomingMessage, res: ServerResponse): void;
} {
  const route = logStreamRoute(state);
  return {
    method: 'POST',
    path: PATH,
    handle: (req, res) => {
      if (!route(req, res)) res.writeHead(404).end();
    },
  };
}

function receive(
  state: LogStreamState,
  uuid: string,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const index = state.requests.push({ uuid, lines: 0, fate: 'open' }) - 1;
  const record = state.requests[index] as LogStreamRequest;
  const untrack = state.track(req);
  const resetAfter = state.resetNextAfterBytes;
  state.resetNextAfterBytes = undefined;
  let decoded = 0;
  let pending = '';
  let finished = false;

  const onSocketClose = (): void => cut();
  const finish = (status: number, body?: string): void => {
    if (finished) return;
    // Reset (down, or a reset fault) with decoded data still buffered: no answer can reach the device.
    if (req.socket.destroyed) return cut();
    finished = true;
    untrack();
    req.socket.off('close', onSocketClose);
    record.fate = 'answered';
    record.status = status;
    if (body === undefined) res.writeHead(status).end();
    else res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8' }).end(body);
  };
  const cut = (): void => {
    if (finished) return;
    finished = true;
    untrack();
    record.fate = 'cut';
    req.socket.destroy();
  };
  req.on('aborted', cut);
  req.socket.once('close', onSocketClose);
  req.on('data', (chunk: Buffer) => (state.wireBytes += chunk.length));

  const body = req.headers['content-encoding'] === 'gzip' ? req.pipe(createGunzip()) : req;
  body.on('error', () => finish(400, 'Could not decode the body'));
  body.on('data', (chunk: Buffer) => {
    if (finished) return;
    decoded += chunk.length;
    state.decodedBytes += chunk.length;
    pending += chunk.toString('utf8');
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const row = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (row.trim() === '') continue;
      if (!store(state, index, record, row)) {
        finish(400, `Could not parse row ${row.slice(0, 100)}...`);
        return;
      }
    }
    if (pending.length > MAX_LINE) return finish(400, 'Row too long');
    if (resetAfter !== undefined && decoded >= resetAfter) return cut();
    if (state.slowMs > 0) {
      body.pause();
      setTimeout(() => body.resume(), state.slowMs);
    }
  });
  body.on('end', () => {
    if (finished) return;
    if (pending.trim() !== '' && !store(state, index, record, pending))
      return finish(400, `Could not parse row ${pending.slice(0, 100)}...`);
    finish(201);
  });
}

/** Stores one NDJSON row; false when it is not JSON (the stream then ends with 400). */
function store(
  state: LogStreamState,
  request: number,
  record: LogStreamRequest,
  row: string,
): boolean {
  let value: unknown;
  try {
    value = JSON.parse(row);
  } catch {
    return false;
  }
  if (typeof value !== 'object' || value === null) return false;
  const line = value as Record<string, unknown>;
  if (typeof line['message'] !== 'string' || typeof line['timestamp'] !== 'number') return true;
  if (line['serviceId'] !== undefined && typeof line['serviceId'] !== 'number') return true;
  state.lines.push({
    request,
    message: line['message'],
    timestamp: line['timestamp'],
    isSystem: line['isSystem'] === true,
    isStdErr: line['isStdErr'] === true,
    ...(typeof line['serviceId'] === 'number' ? { serviceId: line['serviceId'] } : {}),
  });
  record.lines++;
  return true;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
