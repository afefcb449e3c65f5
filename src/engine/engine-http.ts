/**
 * The one door to the engine's HTTP API: every DockerEngine request goes through `dial` here, which is
 * what makes `requests` an exact count of engine API calls (reported by the reconciler benchmark as
 * "engine API requests per operation").
 *
 * Plain node:http over the unix socket (or TCP), not docker-modem: docker-modem eagerly loads ssh2 for
 * `ssh://` engines, which costs ~15 MB of resident memory (a WebAssembly heap) on a device that never
 * uses ssh — close to a third of bosun's idle budget. The Docker API needs nothing more than this.
 *
 * Two kinds of request, kept apart so one can never starve the other (issue 8: with one shared pool of
 * 16 sockets, 16 log follows of a 40-service app queued every later request forever):
 * - short requests (`json`) share a keep-alive pool and each has a time bound (`requestTimeoutMs`, the
 *   agent setting BOSUN_ENGINE_REQUEST_TIMEOUT_MS) covering the wait for a socket, the answer and its
 *   body; past it the request is aborted and fails with ENGINE_TIMEOUT naming what was asked;
 * - streams (`stream`: log follows, events, pull progress) live as long as their caller wants, so each
 *   gets its own connection outside the pool (no cap they could fill) and no time bound.
 */
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { BosunError } from '../shared/errors.js';

/** Default bound of one short engine request (create, start, inspect, …); generous for slow SD cards. */
export const DEFAULT_ENGINE_REQUEST_TIMEOUT_MS = 120_000;

export interface EngineConnection {
  /** Unix socket of the engine (default /var/run/docker.sock). */
  socketPath?: string;
  /** Or a TCP endpoint, e.g. `http://127.0.0.1:2375`. */
  host?: string;
  port?: number;
  /** Told each request's method and whether the engine answered as expected (metrics). */
  onRequest?: (method: EngineRequest['method'], outcome: 'ok' | 'error') => void;
  /** Bound of one short request (default DEFAULT_ENGINE_REQUEST_TIMEOUT_MS); streams have none. */
  requestTimeoutMs?: number;
}

export interface EngineRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';
  /** Path without query, e.g. `/containers/abc/start`. Path segments must already be encoded. */
  path: string;
  query?: Record<string, unknown>;
  body?: unknown;
  /** HTTP statuses that mean success; any other becomes an EngineHttpError. */
  ok: number[];
  signal?: AbortSignal;
  /** Sent as X-Registry-Auth. */
  auth?: Record<string, string>;
  /** Extra time this request may legitimately take on top of the bound (e.g. a stop's grace period). */
  extraTimeMs?: number;
}

/** An answer outside `ok`: the engine's status and its JSON body (`{message}`) when it sent one. */
export class EngineHttpError extends Error {
  // Explicit: the minified bundle keeps no class names (logs report `constructor.name` as `type`).
  static override readonly name: string = 'EngineHttpError';
  constructor(
    readonly statusCode: number,
    readonly json: unknown,
    message: string,
  ) {
    super(message);
    this.name = 'EngineHttpError';
  }
}

function scalar(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Docker's query conventions: objects (filters, labels) as JSON, arrays as repeated keys. */
export function encodeQuery(query: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value))
      for (const item of value as unknown[]) params.append(key, scalar(item));
    else if (typeof value === 'object' && value !== null) params.append(key, JSON.stringify(value));
    else params.append(key, scalar(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

function readBody(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
    // An aborted request may close the answer without an 'error': never leave the caller waiting.
    res.on('close', () => {
      if (!res.complete) reject(new Error('the engine connection closed before the answer ended'));
    });
  });
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export class EngineHttp {
  private dialed = 0;
  /** Keep-alive: the observer's list + inspects reuse sockets instead of reconnecting per request. */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });
  /** Streams: one connection each, never pooled, never queued behind anything. */
  private readonly streamAgent = new Agent({ keepAlive: false });
  private readonly target: { socketPath: string; servername: '' } | { host: string; port: number };
  private readonly onRequest: EngineConnection['onRequest'];
  private readonly requestTimeoutMs: number;

  constructor(connection: EngineConnection) {
    this.onRequest = connection.onRequest;
    this.requestTimeoutMs = connection.requestTimeoutMs ?? DEFAULT_ENGINE_REQUEST_TIMEOUT_MS;
    if (connection.host === undefined) {
      // servername '' (no TLS name: a Unix socket) keeps Node's agent from asking net.isIP whether the
      // default host "localhost" is an address on every request: a miss runs V8's IPv6 pattern, which
      // tiers up to ~140 KB of compiled regexp code kept in the idle agent's heap.
      this.target = { socketPath: connection.socketPath ?? '/var/run/docker.sock', servername: '' };
    } else {
      const url = new URL(
        connection.host.includes('://') ? connection.host : `http://${connection.host}`,
      );
      this.target = { host: url.hostname, port: connection.port ?? (Number(url.port) || 2375) };
    }
  }

  get requests(): number {
    return this.dialed;
  }

  /** A request whose answer is JSON (or empty: then `undefined`). */
  async json<T>(request: EngineRequest): Promise<T> {
    const boundMs = this.requestTimeoutMs + (request.extraTimeMs ?? 0);
    const timer = new AbortController();
    const timeout = setTimeout(() => timer.abort(), boundMs);
    const signal =
      request.signal === undefined ? timer.signal : AbortSignal.any([request.signal, timer.signal]);
    try {
      const res = await this.dial({ ...request, signal }, this.agent);
      return parseJson(await readBody(res)) as T;
    } catch (err) {
      if (timer.signal.aborted && request.signal?.aborted !== true)
        throw new BosunError(
          'ENGINE_TIMEOUT',
          `engine did not answer ${request.method} ${request.path} within ${Math.round(boundMs / 1000)} s`,
          {
            cause: err,
            details: { method: request.method, path: request.path, timeoutMs: boundMs },
          },
        );
      throw err;
    } finally {
      clearTimeout(timeout);
    }
  }

  /** A request whose answer is streamed (pull progress, events, logs): the caller reads and destroys it. */
  stream(request: EngineRequest): Promise<IncomingMessage> {
    return this.dial(request, this.streamAgent);
  }

  /** Closes idle keep-alive sockets (open streams end when their callers destroy them). */
  close(): void {
    this.agent.destroy();
    this.streamAgent.destroy();
  }

  private dial(request: EngineRequest, agent: Agent): Promise<IncomingMessage> {
    this.dialed++;
    const answer = this.send(request, agent);
    const observe = this.onRequest;
    if (observe !== undefined)
      answer.then(
        () => observe(request.method, 'ok'),
        () => observe(request.method, 'error'),
      );
    return answer;
  }

  private send(request: EngineRequest, agent: Agent): Promise<IncomingMessage> {
    const body = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body));
    const headers: Record<string, string | number> = {};
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = body.length;
    }
    if (request.auth !== undefined)
      // URL-safe alphabet *with* padding: the engine decodes with Go's base64.URLEncoding, which
      // rejects unpadded input (and then silently pulls without credentials).
      headers['X-Registry-Auth'] = Buffer.from(JSON.stringify(request.auth))
        .toString('base64')
        .replace(/\+/g, '-')
        .replace(/\//g, '_');
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(
        {
          ...this.target,
          agent,
          method: request.method,
          path: `${request.path}${encodeQuery(request.query ?? {})}`,
          headers,
          ...(request.signal === undefined ? {} : { signal: request.signal }),
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (request.ok.includes(status)) {
            resolve(res);
            return;
          }
          readBody(res).then((raw) => {
            const json = parseJson(raw);
            const text =
              typeof json === 'object' && json !== null && 'message' in json
                ? String(json.message)
                : raw.toString('utf8').trim();
            reject(new EngineHttpError(status, json, `(HTTP code ${status}) ${text}`));
          }, reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}

/** Encodes one path segment (names may contain `/` for images, `:` for tags). */
export function segment(value: string): string {
  return encodeURIComponent(value);
}
