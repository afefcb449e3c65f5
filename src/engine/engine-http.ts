/**
 * The one door to the engine's HTTP API: every DockerEngine request goes through `dial` here, which is
 * what makes `requests` an exact count of engine API calls (reported by the reconciler benchmark as
 * "engine API requests per operation"). Typed wrappers replace dockerode's `Promise<any>` methods.
 */
import type { IncomingMessage } from 'node:http';
import Modem from 'docker-modem';

export interface EngineConnection {
  /** Unix socket of the engine (default /var/run/docker.sock). */
  socketPath?: string;
  /** Or a TCP endpoint, e.g. `http://127.0.0.1:2375`. */
  host?: string;
  port?: number;
}

export interface EngineRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';
  /** Path without query, e.g. `/containers/abc/start`. Path segments must already be encoded. */
  path: string;
  query?: Record<string, unknown>;
  body?: unknown;
  /** HTTP statuses that mean success; any other becomes an error carrying `statusCode` and `json`. */
  ok: number[];
  signal?: AbortSignal;
  /** Sent as X-Registry-Auth. */
  auth?: Record<string, string>;
}

/** Counts every dial: one dial is one HTTP request to the engine. */
class CountingModem extends Modem {
  dialed = 0;
  override dial(options: Modem.DialOptions, callback?: Modem.RequestCallback): void {
    this.dialed++;
    super.dial(options, callback);
  }
}

export class EngineHttp {
  readonly modem: CountingModem;

  constructor(connection: EngineConnection) {
    this.modem = new CountingModem(
      connection.host === undefined
        ? { socketPath: connection.socketPath ?? '/var/run/docker.sock' }
        : { host: connection.host, port: connection.port },
    );
  }

  get requests(): number {
    return this.modem.dialed;
  }

  /** A request whose answer is JSON (or empty: then `undefined`). */
  async json<T>(request: EngineRequest): Promise<T> {
    const result = await this.dial(request, false);
    return (Buffer.isBuffer(result) ? undefined : result) as T;
  }

  /** A request whose answer is streamed (pull progress, events): the caller reads and destroys it. */
  async stream(request: EngineRequest): Promise<IncomingMessage> {
    return (await this.dial(request, true)) as IncomingMessage;
  }

  private dial(request: EngineRequest, isStream: boolean): Promise<unknown> {
    const statusCodes: Modem.StatusCodes = {};
    for (const code of request.ok) statusCodes[code] = true;
    return new Promise((resolve, reject) => {
      this.modem.dial(
        {
          path: `${request.path}?`,
          method: request.method,
          // `_query`/`_body` keep the query and the body apart (by default the modem sends both everywhere).
          options: { _query: request.query ?? {}, _body: request.body ?? {} },
          statusCodes,
          isStream,
          ...(request.signal === undefined ? {} : { abortSignal: request.signal }),
          ...(request.auth === undefined ? {} : { authconfig: request.auth }),
        },
        (err, result) => (err ? reject(err) : resolve(result)),
      );
    });
  }
}

/** Encodes one path segment (names may contain `/` for images, `:` for tags). */
export function segment(value: string): string {
  return encodeURIComponent(value);
}
