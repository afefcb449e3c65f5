/**
 * The API's ETags: weak, in the form express gives by default (`W/"<length hex>-<hash>"`), so a client
 * that revalidates with If-None-Match still gets 304 for an unchanged answer. The hash is 64-bit FNV-1a
 * (src/shared/fnv1a.ts) instead of express's SHA-1: a validator only has to change with the body, and
 * SHA-1 would load node:crypto on the first answer of an agent that otherwise never needs it.
 */
import { fnv1a64 } from '../shared/fnv1a.js';

export function weakEtag(body: string | Buffer, encoding?: BufferEncoding): string {
  const bytes = typeof body === 'string' ? Buffer.from(body, encoding) : body;
  return `W/"${bytes.length.toString(16)}-${fnv1a64(bytes)}"`;
}
