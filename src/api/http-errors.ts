/**
 * The one error → HTTP mapping of the local API. Every failure becomes a BosunError whose registry entry
 * (src/shared/errors.ts) gives the status; the body is always JSON `{status:"failed", message}`.
 * balena answered some legacy errors as plain text; we answer JSON everywhere (balena-cli reads
 * `message` from a JSON body, and scripts get one shape) — see docs/api.md.
 */
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { BosunError, toBosunError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

/**
 * Routes whose legacy success body is `{Data, Error}` (reboot, shutdown) also get `Data`/`Error` on failure,
 * next to `status`/`message`, so both old and new clients find what they read.
 */
export type ErrorShape = 'status' | 'data-error';

export function setErrorShape(res: Response, shape: ErrorShape): void {
  res.locals['errorShape'] = shape;
}

/** Translates errors raised by express' body parser (http-errors with `type`) into registry codes. */
function fromBodyParser(err: unknown): BosunError | undefined {
  if (typeof err !== 'object' || err === null || !('type' in err) || typeof err.type !== 'string')
    return undefined;
  const status = 'status' in err && typeof err.status === 'number' ? err.status : 0;
  if (err.type === 'entity.too.large' || status === 413) {
    return new BosunError('PAYLOAD_TOO_LARGE', 'Request body is larger than the 10 MB limit', {
      cause: err,
    });
  }
  if (err.type === 'entity.parse.failed') {
    return new BosunError(
      'VALIDATION_FAILED',
      `Request body is not valid JSON: ${errorText(err)}`,
      { cause: err },
    );
  }
  if (status >= 400 && status < 500) {
    return new BosunError(
      'VALIDATION_FAILED',
      `Request body could not be read: ${errorText(err)}`,
      { cause: err },
    );
  }
  return undefined;
}

function errorText(err: object): string {
  return 'message' in err && typeof err.message === 'string' ? err.message : 'unreadable body';
}

export function toHttpError(err: unknown): BosunError {
  return fromBodyParser(err) ?? toBosunError(err);
}

export function sendFailure(res: Response, error: BosunError): void {
  const body: Record<string, unknown> = { status: 'failed', message: error.message };
  if (res.locals['errorShape'] === 'data-error') {
    body['Data'] = '';
    body['Error'] = error.message;
  }
  res.status(error.httpStatus).json(body);
}

export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const error = toHttpError(err);
    const fields = {
      method: req.method,
      path: req.path,
      code: error.code,
      status: error.httpStatus,
    };
    if (error.httpStatus >= 500) logger.error('api.request-failed', { ...fields, err: error });
    else logger.debug('api.request-rejected', { ...fields, message: error.message });
    if (res.headersSent) {
      // A stream already started: the only honest signal left is to cut the connection.
      res.destroy(error);
      return;
    }
    sendFailure(res, error);
  };
}

export function notFoundHandler(): RequestHandler {
  return (req, _res, next) => {
    next(new BosunError('ROUTE_NOT_FOUND', `No route ${req.method} ${req.path}`));
  };
}
