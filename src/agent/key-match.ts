/** Constant-time key comparison, so response timing does not reveal how much of a guessed key was right. */
import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Hashing first gives equal-length buffers (timingSafeEqual requires them) without leaking the stored
 * key's length through an early length check.
 */
export function keysEqual(presented: string, stored: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(stored, 'utf8').digest();
  return timingSafeEqual(a, b);
}
