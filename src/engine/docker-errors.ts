/**
 * Where engine HTTP errors become BosunErrors. Nothing else in bosun sees an HTTP status or
 * an errno from the engine: callers branch on codes (NOT_FOUND, CONFLICT, ENGINE_UNREACHABLE, …).
 */
import { BosunError, errorMessage, type ErrorCode } from '../shared/errors.js';

/** Socket-level failures that mean "the engine is not there (right now)", not "the engine said no". */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'ECONNRESET',
  'EPIPE',
  'EACCES',
  'ETIMEDOUT',
]);

/**
 * The engine's IPAM has no free pool for a new network. Docker answers it with 404 (moby maps its
 * "no available pool" error to not-found), but nothing is missing: the machine is out of address
 * ranges until some network goes away, so it must be retried, not held at the backoff cap.
 */
const NO_ADDRESS_POOL = /could not find an available, non-overlapping ipv[46] address pool/i;

const AUTH_FAILURE =
  /unauthorized|authentication required|no basic auth credentials|incorrect username or password|\b401\b/i;

interface ModemErrorShape {
  statusCode?: unknown;
  code?: unknown;
  name?: unknown;
  json?: unknown;
}

/** The engine's own message (`{"message": …}`) when there is one, else the library's. */
export function engineMessage(err: unknown): string {
  const json = (err as ModemErrorShape | null)?.json;
  if (
    typeof json === 'object' &&
    json !== null &&
    typeof (json as { message?: unknown }).message === 'string'
  ) {
    return (json as { message: string }).message;
  }
  // Errors carry "(HTTP code 404) …" before the engine's text; strip it when there is no JSON message.
  return errorMessage(err)
    .replace(/^\(HTTP code \d+\) [^-]*- /, '')
    .trim();
}

export function statusCodeOf(err: unknown): number | undefined {
  const code = (err as ModemErrorShape | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

export function isAbortError(err: unknown): boolean {
  const shape = err as ModemErrorShape | null;
  return shape?.name === 'AbortError' || shape?.code === 'ABORT_ERR';
}

function isUnreachable(err: unknown): boolean {
  const code = (err as ModemErrorShape | null)?.code;
  return typeof code === 'string' && UNREACHABLE_CODES.has(code) && statusCodeOf(err) === undefined;
}

/**
 * Translates an error from one engine call. `what` names the operation and object
 * (e.g. `remove container web_1`) so the message says what failed, not only why.
 */
export function translateDockerError(err: unknown, what: string): BosunError {
  if (err instanceof BosunError) return err;
  const make = (code: ErrorCode, detail: string): BosunError =>
    new BosunError(code, `${what}: ${detail}`, {
      cause: err,
      details: statusCodeOf(err) === undefined ? undefined : { statusCode: statusCodeOf(err) },
    });
  if (isAbortError(err)) return make('CANCELLED', 'cancelled');
  if (isUnreachable(err))
    return make('ENGINE_UNREACHABLE', `engine not reachable (${errorMessage(err)})`);
  const message = engineMessage(err);
  const status = statusCodeOf(err);
  if (status === undefined) return make('ENGINE_ERROR', message);
  if (NO_ADDRESS_POOL.test(message)) return make('ENGINE_NO_ADDRESS_POOL', message);
  switch (status) {
    case 404:
      return make('NOT_FOUND', message);
    case 409:
      return make('CONFLICT', message);
    case 403:
      // The engine answers 403 for "in use" and "already exists" on networks, which are conflicts.
      if (/active endpoints|already exists/i.test(message)) return make('CONFLICT', message);
      return make('ENGINE_ERROR', message);
    case 500:
      if (/is not connected to (the )?network/i.test(message)) return make('NOT_FOUND', message);
      return make('ENGINE_ERROR', message);
    default:
      return make('ENGINE_ERROR', message);
  }
}

/** A pull's failure: auth refusals and cancellation are told apart from every other download failure. */
export function translatePullError(err: unknown, reference: string): BosunError {
  if (err instanceof BosunError) return err;
  const what = `pull ${reference}`;
  if (isAbortError(err)) return new BosunError('CANCELLED', `${what}: cancelled`, { cause: err });
  if (isUnreachable(err)) return translateDockerError(err, what);
  const message = engineMessage(err);
  if (AUTH_FAILURE.test(message)) {
    return new BosunError(
      'REGISTRY_AUTH',
      `${what}: the registry refused the credentials (${message})`,
      { cause: err },
    );
  }
  return new BosunError('IMAGE_PULL_FAILED', `${what}: ${message}`, { cause: err });
}
