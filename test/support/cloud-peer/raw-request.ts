/** One HTTP(S) request with exactly the headers given (no client defaults), for checking the peer's rules. */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { gunzipSync } from 'node:zlib';

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** Decoded (gunzipped when the answer was gzip). */
  body: Buffer;
}

export function rawRequest(
  base: string,
  options: {
    method: string;
    path: string;
    headers: Record<string, string>;
    body?: Buffer | undefined;
    chunked?: boolean;
    ca?: string | undefined;
  },
): Promise<RawAnswer> {
  const url = new URL(options.path, base);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: options.method,
        headers: options.headers,
        agent: false,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: res.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw,
          });
        });
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) {
      if (options.chunked !== true) req.setHeader('Content-Length', options.body.length);
      req.write(options.body);
    }
    req.end();
  });
}
