/**
 * Fault injection: a queue of faults, each matching a method and path, applied to the next matching
 * requests instead of (or on top of) the real route. Kinds are the ways a cloud or the network between
 * fails: 5xx, 429 with Retry-After, a request never answered, a body trickled slowly, a connection reset,
 * a JSON body cut short, a body of the wrong content type.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type FaultKind =
  | { kind: 'status'; status: number }
  | { kind: 'rate-limit'; retryAfterSeconds: number }
  | { kind: 'timeout' }
  | { kind: 'slow-body'; chunkDelayMs: number; chunkBytes?: number }
  | { kind: 'reset' }
  | { kind: 'malformed-json' }
  | { kind: 'wrong-content-type' };

export type Fault = FaultKind & {
  method?: string;
  path?: RegExp;
  /** How many matching requests it hits; default 1, Infinity until cleared. */
  times?: number;
};

interface ArmedFault {
  fault: Fault;
  remaining: number;
}

export class FaultQueue {
  private armed: ArmedFault[] = [];
  /** Requests held open by `timeout` faults, ended when the peer closes. */
  readonly held = new Set<ServerResponse>();

  add(fault: Fault): void {
    this.armed.push({ fault, remaining: fault.times ?? 1 });
  }

  clear(): void {
    this.armed = [];
  }

  /** The fault for this request, if one matches (its count is used up). */
  take(method: string, path: string): Fault | undefined {
    const entry = this.armed.find(
      (a) =>
        a.remaining > 0 &&
        (a.fault.method === undefined || a.fault.method === method) &&
        (a.fault.path === undefined || a.fault.path.test(path)),
    );
    if (entry === undefined) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.armed = this.armed.filter((a) => a !== entry);
    return entry.fault;
  }
}

/**
 * Answers with the fault. Returns 'handled' when the request is done with, or 'slow' when the real route
 * must answer through a response whose body is trickled (the caller wraps `res`).
 */
export function applyFault(
  fault: Fault,
  req: IncomingMessage,
  res: ServerResponse,
  queue: FaultQueue,
): 'handled' | 'slow' {
  switch (fault.kind) {
    case 'status':
      res.writeHead(fault.status, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<html><body>${fault.status}</body></html>`);
      return 'handled';
    case 'rate-limit':
      res.writeHead(429, {
        'Retry-After': String(fault.retryAfterSeconds),
        'Content-Type': 'text/plain; charset=utf-8',
      });
      res.end('Too Many Requests');
      return 'handled';
    case 'timeout':
      // Read and drop the body, never answer: the client's own timeout must end it.
      req.resume();
      queue.held.add(res);
      res.on('close', () => queue.held.delete(res));
      return 'handled';
    case 'reset':
      req.socket.destroy();
      return 'handled';
    case 'malformed-json':
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end('{"truncated": {"apps": ');
      return 'handled';
    case 'wrong-content-type':
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<html><body>captive portal</body></html>');
      return 'handled';
    case 'slow-body':
      return 'slow';
  }
}

/** Makes `res.end(body)` send its body in small chunks with a delay between them. */
export function trickle(res: ServerResponse, chunkDelayMs: number, chunkBytes = 16): void {
  const end = res.end.bind(res);
  const write = res.write.bind(res);
  const slowEnd = (chunk?: unknown): ServerResponse => {
    const buffer =
      chunk === undefined || typeof chunk === 'function'
        ? Buffer.alloc(0)
        : Buffer.isBuffer(chunk)
          ? chunk
          : Buffer.from(typeof chunk === 'string' ? chunk : '');
    let offset = 0;
    const next = (): void => {
      if (res.destroyed) return;
      if (offset >= buffer.length) {
        end();
        return;
      }
      write(buffer.subarray(offset, offset + chunkBytes));
      offset += chunkBytes;
      setTimeout(next, chunkDelayMs);
    };
    next();
    return res;
  };
  res.end = slowEnd as ServerResponse['end'];
}
