/** Constant-time key comparison, so response timing does not reveal how much of a guessed key was right. */
import { nodeCrypto } from '../shared/node-crypto.js';

/**
 * Hashing first gives equal-length buffers (timingSafeEqual requires them) without leaking the stored
 * key's length through an early length check.
 */
export function keysEqual(presented: string, stored: string): boolean {
  const { createHash, timingSafeEqual } = nodeCrypto();
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(stored, 'utf8').digest();
  return timingSafeEqual(a, b);
}
