/**
 * The one way bosun talks to the cloud API: node:https (or node:http for a development openBalena on
 * `http://`) through one Agent that keeps connections alive and caches TLS sessions, so a poll after the
 * server closed an idle connection resumes the session instead of a full handshake with certificates.
 *
 * Trust: the system CAs plus config.json `balenaRootCA` (base64 PEM, as balenaOS writes it for a
 * self-signed openBalena). Nothing else is trusted and verification is never turned off.
 *
 * On the wire, only what the cloud needs: Authorization, Accept-Encoding: gzip (the shortest form; the
 * recorded API compresses bodies over 1 KiB), If-None-Match on polls, Content-Type/Length on bodies and
 * Content-Encoding when a body is sent gzipped. No User-Agent: the API does not need it and it would cost
 * ~60 bytes on every request of a device's life.
 *
 * Every answer is bounded: the body is capped (compressed and decoded), and every request has a timeout.
 * Network-level failures become CLOUD_UNREACHABLE; callers decide what a status means.
 */
import {
  Agent as HttpAgent,
  request as httpRequest,
  type ClientRequest,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect as connectTcp, type LookupFunction, type Socket } from 'node:net';
import { createSecureContext, rootCertificates, type ConnectionOptions } from 'node:tls';
import { createGunzip, gzipSync } from 'node:zlib';
import { BosunError, errorMessage } from '../shared/errors.js';

/** Generous for a target state (a large fleet release is tens of KB); far below what could hurt memory. */
export const MAX_ANSWER_BYTES = 8 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 59_000;
/** A gzipped body costs `Content-Encoding: gzip` (~24 bytes) and a gzip header: only worth it past this. */
const GZIP_MIN_BYTES = 256;

export interface CloudClientOptions {
  /** config.json apiEndpoint, e.g. `https://api.balena-cloud.com`. */
  endpoint: string;
  /** config.json balenaRootCA: base64 of a PEM bundle. */
  rootCaBase64?: string | undefined;
  /** Keep-alive and TLS session reuse; off only to measure what they save (bench/). */
  reuseConnections?: boolean;
  timeoutMs?: number;
  /**
   * Bytes on the wire (TCP payload, TLS records and handshakes included), reported as they are known:
   * after each answer and when a connection closes. Feeds bosun_cloud_bytes_total.
   */
  onWireBytes?: (direction: 'sent' | 'received', bytes: number) => void;
  /**
   * Name resolution for the cloud's host (default: the system's). main.ts passes one that falls back to
   * multicast DNS for `*.local` names (a local openBalena on the LAN; docs/protocol.md#mdns-resolution).
   */
  lookup?: LookupFunction;
}

export interface CloudRequest {
  method: 'GET' | 'POST' | 'PATCH';
  /** Path and query, starting with `/`. */
  path: string;
  /** Bearer key; omitted when undefined. */
  key: string | undefined;
  /** Sent as JSON. */
  body?: unknown;
  /** Compress the JSON body when that makes it smaller (only where the cloud accepts gzip bodies). */
  gzipBody?: boolean;
  ifNoneMatch?: string | undefined;
  signal?: AbortSignal | undefined;
}

export interface CloudAnswer {
  status: number;
  etag: string | undefined;
  contentType: string | undefined;
  /** Retry-After in seconds (the HTTP meaning), when the answer carried a usable one. */
  retryAfterSeconds: number | undefined;
  /** Decoded body. */
  body: Buffer;
}

/** Decodes config.json balenaRootCA; an unusable value is a config error, not a silent no-trust. */
export function decodeRootCa(base64: string): string {
  const pem = Buffer.from(base64, 'base64').toString('utf8');
  if (!pem.includes('-----BEGIN CERTIFICATE-----'))
    throw new BosunError(
      'CONFIG_INVALID',
      'config.json balenaRootCA is not a base64-encoded PEM certificate',
      {
        details: { field: 'balenaRootCA' },
      },
    );
  return pem;
}

function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/**
 * Counts what crossed one TCP socket and reports only what was not reported yet, so an answer's bytes
 * are counted when it ends and a connection's tail (TLS session tickets, close_notify) when it closes.
 */
class WireCounter {
  private readonly reported = new WeakMap<Socket, { sent: number; received: number }>();

  constructor(
    private readonly report: ((direction: 'sent' | 'received', bytes: number) => void) | undefined,
  ) {}

  /** Starts counting a TCP socket (again for a reused one: nothing happens). */
  watch(raw: Socket): void {
    if (this.report === undefined || this.reported.has(raw)) return;
    this.reported.set(raw, { sent: 0, received: 0 });
    raw.once('close', () => this.flush(raw));
  }

  flush(raw: Socket | undefined): void {
    const seen = raw === undefined ? undefined : this.reported.get(raw);
    if (raw === undefined || seen === undefined || this.report === undefined) return;
    const sent = raw.bytesWritten - seen.sent;
    const received = raw.bytesRead - seen.received;
    seen.sent = raw.bytesWritten;
    seen.received = raw.bytesRead;
    if (sent > 0) this.report('sent', sent);
    if (received > 0) this.report('received', received);
  }
}

/**
 * https.Agent whose TLS runs over a TCP socket made here, so the socket's byte counts are the wire's
 * (a TLSSocket counts decrypted bytes). Session caching stays the base class's: the TCP socket is handed
 * to it as `socket`.
 */
class CountingHttpsAgent extends HttpsAgent {
  /** TLS socket → the TCP socket under it. */
  readonly raw = new WeakMap<object, Socket>();

  constructor(
    options: ConstructorParameters<typeof HttpsAgent>[0],
    private readonly counter: WireCounter,
  ) {
    super(options);
  }

  override createConnection(
    options: ConnectionOptions & {
      host?: string;
      port?: number;
      family?: number;
      lookup?: LookupFunction;
    },
    callback?: Parameters<HttpsAgent['createConnection']>[1],
  ): Socket {
    const tcp = connectTcp({
      host: options.host ?? 'localhost',
      port: options.port ?? 443,
      ...(options.family === undefined ? {} : { family: options.family }),
      ...(options.lookup === undefined ? {} : { lookup: options.lookup }),
    });
    this.counter.watch(tcp);
    // tls.connect's `socket` option: the TLS session runs over our TCP socket (node's https.Agent passes
    // its options through to tls.connect, with the cached session added).
    const withSocket = { ...options, socket: tcp } as Parameters<HttpsAgent['createConnection']>[0];
    const tls: unknown = super.createConnection(withSocket, callback);
    this.raw.set(tls as object, tcp);
    return tls as Socket;
  }
}

export class CloudClient {
  private readonly base: URL;
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly timeoutMs: number;
  private readonly counter: WireCounter;

  /**
   * This client's keep-alive agent (its trust and TLS session cache) for another stream to the cloud,
   * the log stream, when `url` speaks the same protocol; undefined otherwise.
   */
  agentFor(url: URL): HttpAgent | HttpsAgent | undefined {
    return url.protocol === this.base.protocol ? this.agent : undefined;
  }

  constructor(options: CloudClientOptions) {
    let base: URL;
    try {
      base = new URL(options.endpoint);
    } catch {
      throw new BosunError(
        'CONFIG_INVALID',
        `config.json apiEndpoint is not a URL: ${options.endpoint}`,
        {
          details: { field: 'apiEndpoint' },
        },
      );
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:')
      throw new BosunError(
        'CONFIG_INVALID',
        `config.json apiEndpoint must be http(s): ${options.endpoint}`,
        {
          details: { field: 'apiEndpoint' },
        },
      );
    this.base = base;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const reuse = options.reuseConnections ?? true;
    // One socket is enough for a device (requests are few and serialised by their loops); keep-alive lets
    // a report follow a poll on the same connection. A third for the log stream, which shares this agent
    // and keeps its request open for seconds at a time.
    const agentOptions = {
      keepAlive: reuse,
      maxSockets: 3,
      maxFreeSockets: 1,
      ...(options.lookup === undefined ? {} : { lookup: options.lookup }),
    };
    this.counter = new WireCounter(options.onWireBytes);
    if (base.protocol === 'https:') {
      const ca = [...rootCertificates];
      if (options.rootCaBase64 !== undefined && options.rootCaBase64 !== '')
        ca.push(decodeRootCa(options.rootCaBase64));
      // One secure context for every connection: given only `ca`, Node parses the ~140 roots again
      // for each new TLS connection (a few ms of CPU each, more on a Pi; profiled in bench/logs-stream.ts).
      const secureContext = createSecureContext({ ca });
      this.agent = new CountingHttpsAgent(
        { ...agentOptions, secureContext, maxCachedSessions: reuse ? 4 : 0 },
        this.counter,
      );
    } else {
      this.agent = new HttpAgent(agentOptions);
      const counter = this.counter;
      this.watchPlainSockets = (request) =>
        request.once('socket', (socket: Socket) => counter.watch(socket));
    }
  }

  /** Plain http: the agent's own sockets are TCP sockets; watch each new one. */
  private watchPlainSockets: ((request: ClientRequest) => void) | undefined;

  /** The TCP socket under a request's socket (itself for plain http). */
  private tcpOf(request: ClientRequest): Socket | undefined {
    const socket = request.socket;
    if (socket === null) return undefined;
    return this.agent instanceof CountingHttpsAgent ? this.agent.raw.get(socket) : socket;
  }

  get endpoint(): string {
    return this.base.href;
  }

  async request(req: CloudRequest): Promise<CloudAnswer> {
    try {
      return await this.send(req);
    } catch (err) {
      // A kept-alive connection the server closed just as we reused it: once more on a fresh one.
      if (err instanceof StaleSocketError) return this.send(req);
      throw err;
    }
  }

  private send(req: CloudRequest): Promise<CloudAnswer> {
    const url = new URL(
      req.path.replace(/^\//, ''),
      this.base.href.endsWith('/') ? this.base : `${this.base.href}/`,
    );
    const headers: Record<string, string> = { 'Accept-Encoding': 'gzip' };
    if (req.key !== undefined) headers['Authorization'] = `Bearer ${req.key}`;
    if (req.ifNoneMatch !== undefined) headers['If-None-Match'] = req.ifNoneMatch;
    let payload: Buffer | undefined;
    if (req.body !== undefined) {
      payload = Buffer.from(JSON.stringify(req.body), 'utf8');
      headers['Content-Type'] = 'application/json';
      if (req.gzipBody === true && payload.length >= GZIP_MIN_BYTES) {
        const zipped = gzipSync(payload, { level: 9 });
        if (zipped.length + 24 < payload.length) {
          payload = zipped;
          headers['Content-Encoding'] = 'gzip';
        }
      }
      headers['Content-Length'] = String(payload.length);
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<CloudAnswer>((resolve, reject) => {
      const what = `${req.method} ${url.pathname}`;
      let answered = false;
      const done = (): void => this.counter.flush(this.tcpOf(request));
      const fail = (err: unknown): void => {
        done();
        const code = (err as NodeJS.ErrnoException).code;
        if (!answered && request.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE'))
          return reject(new StaleSocketError(what));
        reject(
          err instanceof BosunError
            ? err
            : new BosunError('CLOUD_UNREACHABLE', `${what}: ${errorMessage(err)}`, { cause: err }),
        );
      };
      const request = send(
        url,
        { method: req.method, headers, agent: this.agent, signal: req.signal },
        (res) => {
          answered = true;
          readAnswer(res, what).then((answer) => {
            done();
            resolve(answer);
          }, fail);
        },
      );
      request.setTimeout(this.timeoutMs, () =>
        request.destroy(new Error(`no answer within ${this.timeoutMs} ms`)),
      );
      request.on('error', fail);
      this.watchPlainSockets?.(request);
      request.end(payload);
    });
  }

  /** Closes idle connections (shutdown). */
  close(): void {
    this.agent.destroy();
  }
}

function readAnswer(res: IncomingMessage, what: string): Promise<CloudAnswer> {
  return new Promise<CloudAnswer>((resolve, reject) => {
    const encoding = String(res.headers['content-encoding'] ?? 'identity').toLowerCase();
    let source: NodeJS.ReadableStream = res;
    if (encoding === 'gzip') {
      const gunzip = createGunzip();
      res.pipe(gunzip);
      source = gunzip;
    } else if (encoding !== 'identity') {
      res.destroy();
      reject(
        new BosunError('CLOUD_BAD_ANSWER', `${what}: unsupported Content-Encoding ${encoding}`),
      );
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    source.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) {
        res.destroy();
        reject(
          new BosunError(
            'CLOUD_BAD_ANSWER',
            `${what}: answer larger than ${MAX_ANSWER_BYTES} bytes`,
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    source.on('error', (err: unknown) =>
      reject(
        new BosunError(
          'CLOUD_BAD_ANSWER',
          `${what}: answer cut short or undecodable: ${errorMessage(err)}`,
          { cause: err },
        ),
      ),
    );
    res.on('aborted', () =>
      reject(new BosunError('CLOUD_UNREACHABLE', `${what}: connection lost mid-answer`)),
    );
    source.on('end', () => {
      const etag = res.headers.etag;
      const retryAfter = res.headers['retry-after'];
      resolve({
        status: res.statusCode ?? 0,
        etag: typeof etag === 'string' ? etag : undefined,
        contentType: res.headers['content-type'],
        retryAfterSeconds: parseRetryAfter(
          typeof retryAfter === 'string' ? retryAfter : undefined,
          Date.now(),
        ),
        body: Buffer.concat(chunks),
      });
    });
  });
}

class StaleSocketError extends BosunError {
  // Explicit: the minified bundle keeps no class names (logs report `constructor.name` as `type`).
  static override readonly name: string = 'StaleSocketError';
  constructor(what: string) {
    super('CLOUD_UNREACHABLE', `${what}: the kept-alive connection was closed by the server`);
  }
}

/** Parses a JSON answer; CLOUD_BAD_ANSWER when it is not JSON or not labelled as JSON. */
export function jsonOf(answer: CloudAnswer, what: string): unknown {
  if (!/^application\/json\b/i.test(answer.contentType ?? ''))
    throw new BosunError(
      'CLOUD_BAD_ANSWER',
      `${what}: expected application/json, got ${answer.contentType ?? 'no Content-Type'} (a proxy or captive portal?)`,
    );
  try {
    return JSON.parse(answer.body.toString('utf8')) as unknown;
  } catch (err) {
    throw new BosunError(
      'CLOUD_BAD_ANSWER',
      `${what}: body is not valid JSON: ${errorMessage(err)}`,
      { cause: err },
    );
  }
}

/** An unexpected status as an error carrying Retry-After. */
export class CloudStatusError extends BosunError {
  // Explicit: the minified bundle keeps no class names (logs report `constructor.name` as `type`).
  static override readonly name: string = 'CloudStatusError';
  constructor(
    readonly status: number,
    readonly retryAfterSeconds: number | undefined,
    message: string,
  ) {
    super('CLOUD_ERROR', message, { details: { status, retryAfterSeconds } });
  }
}

export function statusError(answer: CloudAnswer, what: string): CloudStatusError {
  const text = answer.body.toString('utf8').slice(0, 200);
  return new CloudStatusError(
    answer.status,
    answer.retryAfterSeconds,
    `${what}: the cloud answered ${answer.status}${text === '' ? '' : ` ${text}`}`,
  );
}
