/**
 * `GET /v2/local/logs` (docs/protocol.md#local-log-stream): 200 NDJSON held open until the client leaves. The
 * API mounts this handler as it is; it only needs Node's request/response, so it works under Express too.
 * balena-cli parses the body line by line and reconnects when the stream ends, so the response must
 * never end on its own, and must not be cut by the server's idle socket timeout either.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isBosunError } from '../shared/errors.js';
import type { LocalLogBackend } from './local-log-backend.js';
import type { LogSubscription } from './log-subscription.js';

export type LocalLogsHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function createLocalLogsHandler(backend: LocalLogBackend): LocalLogsHandler {
  return (req, res) => {
    let reader: LogSubscription;
    try {
      // Before any header: beyond the bound the client gets a plain 503 JSON answer.
      reader = backend.subscribe();
    } catch (err) {
      if (!isBosunError(err, 'TOO_MANY_LOG_READERS')) throw err;
      res.writeHead(err.httpStatus, { 'Content-Type': 'application/json', 'Retry-After': '10' });
      res.end(JSON.stringify({ status: 'failed', message: err.message }));
      return;
    }
    req.socket.setTimeout(0);
    res.writeHead(200, {
      'Content-Type': 'application/x-ndjson',
      'Cache-Control': 'no-cache',
      // Proxies and compression middleware must not hold lines back.
      'X-Accel-Buffering': 'no',
    });
    // Exactly what balena-supervisor sends first (no timestamp: the CLI then shows its own time).
    res.write(JSON.stringify({ message: 'Streaming logs', isSystem: true }) + '\n');
    const stop = (): void => reader.close();
    res.on('close', stop);
    req.on('close', stop);
    void pump(reader, res);
  };
}

/** Copies queued lines to the response, waiting for `drain` so a slow client backs up our queue, not memory. */
async function pump(reader: LogSubscription, res: ServerResponse): Promise<void> {
  for (;;) {
    const lines = await reader.take();
    if (lines === undefined || res.destroyed) return;
    const flushed = res.write(lines.join(''));
    if (!flushed && !(await drained(res))) return;
  }
}

function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const onDrain = (): void => finish(true);
    const onClose = (): void => finish(false);
    const finish = (ok: boolean): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}
