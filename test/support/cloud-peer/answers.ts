/**
 * How the real API (open-balena-api v49 on Express) shapes its answers, as recorded in
 * test/fixtures/cloud/README.md: JSON and string bodies carry a weak ETag of Express's form, `Vary:
 * Accept-Encoding` and a Content-Length; empty answers are chunked with neither body nor Content-Type.
 * Bodies over 1 KiB are gzipped when the client accepts it (a ~0.9 KB state was sent plain).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';

const COMPRESS_THRESHOLD = 1024;
export const MAX_REQUEST_BODY = 1024 * 1024;

/** Express's weak ETag: `W/"<hex byte length>-<first 27 chars of base64 sha1>"`. */
export function weakEtag(body: string): string {
  const hash = createHash('sha1').update(body, 'utf8').digest('base64').slice(0, 27);
  return `W/"${Buffer.byteLength(body, 'utf8').toString(16)}-${hash}"`;
}

function acceptsGzip(req: IncomingMessage): boolean {
  return /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  contentType: string,
  text: string,
  extraHeaders: Record<string, string> = {},
): void {
  const etag = weakEtag(text);
  let payload: Buffer = Buffer.from(text, 'utf8');
  const headers: Record<string, string> = { ...extraHeaders, 'Content-Type': contentType };
  if (payload.length >= COMPRESS_THRESHOLD && acceptsGzip(req)) {
    payload = gzipSync(payload);
    headers['Content-Encoding'] = 'gzip';
  }
  headers['Content-Length'] = String(payload.length);
  headers['ETag'] = etag;
  headers['Vary'] = 'Accept-Encoding';
  res.writeHead(status, headers);
  res.end(payload);
}

/** A JSON answer (objects, and also bare JSON strings such as `"Unknown device type x"`). */
export function sendJson(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  value: unknown,
  extraHeaders: Record<string, string> = {},
): void {
  send(req, res, status, 'application/json; charset=utf-8', JSON.stringify(value), extraHeaders);
}

/** A plain text answer labelled text/html, as Express's `res.send(string)` does (the 409 on register). */
export function sendHtmlText(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  text: string,
): void {
  send(req, res, status, 'text/html; charset=utf-8', text);
}

/** An empty answer: chunked, no Content-Type (`res.status(n).end()` behind Express). */
export function sendEmpty(
  res: ServerResponse,
  status: number,
  extraHeaders: Record<string, string> = {},
): void {
  res.writeHead(status, extraHeaders);
  // An explicit zero-length chunk write makes node use chunked encoding, as the real API does.
  res.write('');
  res.end();
}

/** 401 `{"error":"API key required"}`: what the API says when a key is not accepted at all. */
export function sendKeyRequired(req: IncomingMessage, res: ServerResponse): void {
  sendJson(req, res, 401, { error: 'API key required' });
}

/**
 * Reads a request body up to MAX_REQUEST_BODY, decoding `Content-Encoding: gzip` (the API accepts gzip
 * report bodies). Resolves undefined when the body is too large or not valid gzip.
 */
export async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_REQUEST_BODY) return undefined;
    chunks.push(buffer);
  }
  const raw = Buffer.concat(chunks);
  if (String(req.headers['content-encoding'] ?? '').toLowerCase() === 'gzip') {
    try {
      return gunzipSync(raw, { maxOutputLength: MAX_REQUEST_BODY });
    } catch {
      return undefined;
    }
  }
  return raw;
}

/** Parses a JSON body; undefined when it is not JSON. */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** The bearer token of a request, if any. */
export function bearer(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer (.+)$/.exec(header);
  return match?.[1];
}
