/**
 * The one error registry. Every error bosun raises on purpose carries a stable `code` from this table,
 * a `retryable` flag, and an optional `cause`. Adapters translate library errors into these at their
 * boundary; the API maps codes to HTTP statuses through `httpStatus` here, in one place.
 * test/unit/shared/errors.spec.ts checks that every code is documented in docs/errors.md.
 */

export interface ErrorDefinition {
  /** HTTP status the local API answers with. */
  readonly httpStatus: number;
  /** Whether trying the same thing again later can succeed. */
  readonly retryable: boolean;
  /** One sentence a user can act on; shown in docs/errors.md. */
  readonly description: string;
}

export const ERROR_REGISTRY = {
  // Input
  VALIDATION_FAILED: {
    httpStatus: 400,
    retryable: false,
    description:
      'A request body, target state or file did not match its schema; the message gives the JSON path and reason.',
  },
  CONFIG_INVALID: {
    httpStatus: 500,
    retryable: false,
    description:
      'config.json is not JSON or has a field of the wrong type, or an environment variable bosun reads has a bad value; the message names the file and field, or the variable. The file is left untouched.',
  },
  CONFIG_UNWRITABLE: {
    httpStatus: 500,
    retryable: true,
    description: 'config.json could not be written (read-only file system or permissions).',
  },
  NOT_FOUND: {
    httpStatus: 404,
    retryable: false,
    description: 'The app, service, container, image, network or volume named does not exist.',
  },
  CONFLICT: {
    httpStatus: 409,
    retryable: false,
    description:
      'The engine refused because a resource with that name already exists or is in use.',
  },
  UNAUTHORIZED: {
    httpStatus: 401,
    retryable: false,
    description: 'No API key, or an unknown one.',
  },
  FORBIDDEN: {
    httpStatus: 403,
    retryable: false,
    description: 'The API key is valid but scoped to another app.',
  },
  NOT_IN_LOCAL_MODE: {
    httpStatus: 400,
    retryable: false,
    description: 'The endpoint is only available while the device is in local mode.',
  },
  PAYLOAD_TOO_LARGE: {
    httpStatus: 413,
    retryable: false,
    description: 'The request body is over the size limit.',
  },
  ROUTE_NOT_FOUND: { httpStatus: 404, retryable: false, description: 'No such API route.' },
  // Engine
  ENGINE_UNREACHABLE: {
    httpStatus: 503,
    retryable: true,
    description: 'The container engine socket does not answer; bosun retries with backoff.',
  },
  ENGINE_ERROR: {
    httpStatus: 503,
    retryable: true,
    description: 'The container engine answered with an error not covered by a more specific code.',
  },
  REGISTRY_AUTH: {
    httpStatus: 503,
    retryable: true,
    description: 'The image registry refused the credentials bosun used for a pull.',
  },
  IMAGE_PULL_FAILED: {
    httpStatus: 503,
    retryable: true,
    description: 'An image could not be downloaded; retried with backoff.',
  },
  ENGINE_NO_ADDRESS_POOL: {
    httpStatus: 503,
    retryable: true,
    description:
      "The engine has no free address range left for a new network (every default pool overlaps a network or a host route). Only the app that needs the network waits: it is tried again as soon as a network is removed on the engine, and otherwise with backoff. Removing unused networks or widening the engine's default-address-pools clears it.",
  },
  ENGINE_TIMEOUT: {
    httpStatus: 503,
    retryable: true,
    description:
      'A short engine request (create, start, inspect, …) got no answer within BOSUN_ENGINE_REQUEST_TIMEOUT_MS; the step fails and is retried with backoff.',
  },
  CANCELLED: {
    httpStatus: 503,
    retryable: true,
    description: 'The operation was cancelled, usually because a newer target arrived.',
  },
  // Reconcile
  UPDATES_LOCKED: {
    httpStatus: 423,
    retryable: true,
    description: 'A service holds an update lock; the action waits for it unless forced.',
  },
  APPLY_FAILED: {
    httpStatus: 503,
    retryable: true,
    description: 'A step of the apply failed; the reconciler backs off and tries again.',
  },
  NOT_READY: {
    httpStatus: 503,
    retryable: true,
    description: 'The agent is still starting (engine or store not ready yet).',
  },
  // Store
  STORE_ERROR: {
    httpStatus: 503,
    retryable: true,
    description: 'The SQLite store could not be read or written.',
  },
  MIGRATION_FAILED: {
    httpStatus: 500,
    retryable: false,
    description: 'A database migration failed; the previous schema is kept.',
  },
  // Cloud
  CLOUD_UNREACHABLE: {
    httpStatus: 503,
    retryable: true,
    description:
      'The cloud API could not be reached (DNS, connection, TLS or timeout); the device keeps running its stored target and retries with backoff.',
  },
  CLOUD_ERROR: {
    httpStatus: 502,
    retryable: true,
    description:
      'The cloud API answered with an unexpected status (5xx, 429 or another error); retried with backoff, honouring Retry-After.',
  },
  CLOUD_BAD_ANSWER: {
    httpStatus: 502,
    retryable: true,
    description:
      'The cloud API answered with a body bosun cannot use (not JSON, wrong content type, too large, cut short); nothing of it is applied.',
  },
  PROVISIONING_REJECTED: {
    httpStatus: 503,
    retryable: false,
    description:
      'The cloud refused to register the device: the provisioning key (config.json apiKey) is not accepted, the device type is unknown, or config.json lacks applicationId/apiKey. Fix config.json and restart; bosun retries only hourly.',
  },
  // Catch-all
  INTERNAL: {
    httpStatus: 500,
    retryable: false,
    description: 'A bug: an invariant bosun relies on did not hold.',
  },
  // Local API hardening (cross-site requests, DNS rebinding, reader bounds)
  UNSUPPORTED_MEDIA_TYPE: {
    httpStatus: 415,
    retryable: false,
    description:
      'A request body was sent with a Content-Type other than application/json; the API reads JSON only (this also keeps web-page forms out).',
  },
  CROSS_ORIGIN_REFUSED: {
    httpStatus: 403,
    retryable: false,
    description:
      'A browser request from another web origin (Origin or Sec-Fetch-Site says so); the local API serves no web pages, so a web page has no business calling it.',
  },
  HOST_NOT_ALLOWED: {
    httpStatus: 403,
    retryable: false,
    description:
      'The Host header names neither an IP address, localhost, a `.local` name nor one of the device hostnames (a DNS-rebinding guard); call the device by its address or hostname.',
  },
  TOO_MANY_LOG_READERS: {
    httpStatus: 503,
    retryable: true,
    description:
      'The number of open log streams reached its bound (BOSUN_MAX_LOG_READERS); close one or try again later.',
  },
  AGENT_STARTING: {
    httpStatus: 503,
    retryable: true,
    description:
      'The agent is still starting: only `/ping` answers in its first moments, and more requests arrived than it holds until the rest of the API is up. Try again in a moment (Retry-After says when).',
  },
  // Host
  HOST_ACTION_FAILED: {
    httpStatus: 502,
    retryable: true,
    description:
      'The host refused or did not answer a host action (reboot, power-off, unit restart, hostname) over D-Bus.',
  },
  // Disk preflight
  REGISTRY_MANIFEST_UNAVAILABLE: {
    httpStatus: 503,
    retryable: true,
    description:
      "An image's manifest or config could not be read from its registry before the download (unreachable, refused, malformed or too large); the disk preflight does not count that image and logs one warning.",
  },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof ERROR_REGISTRY;

export interface BosunErrorOptions {
  cause?: unknown;
  /** Structured detail safe to log and to return to API clients (no secrets). */
  details?: Record<string, unknown>;
}

export class BosunError extends Error {
  // The bundle is minified without keepNames (BENCHMARKS.md, "Build-level cuts"), so a class's own
  // identifier does not survive; the logger's error serializer reports `constructor.name` as `type`.
  static override readonly name: string = 'BosunError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: BosunErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BosunError';
    this.code = code;
    this.details = options.details;
  }

  get retryable(): boolean {
    return ERROR_REGISTRY[this.code].retryable;
  }

  get httpStatus(): number {
    return ERROR_REGISTRY[this.code].httpStatus;
  }
}

export function isBosunError(err: unknown, code?: ErrorCode): err is BosunError {
  return err instanceof BosunError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into a BosunError, keeping the original as `cause`. */
export function toBosunError(err: unknown, fallback: ErrorCode = 'INTERNAL'): BosunError {
  if (err instanceof BosunError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new BosunError(fallback, message, { cause: err });
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
