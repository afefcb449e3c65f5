/**
 * 64-bit FNV-1a (http://www.isthe.com/chongo/tech/comp/fnv/), as 16 hex digits. For tags that only
 * have to change when their input does, where a cryptographic hash would load node:crypto while the
 * agent starts (src/shared/node-crypto.ts): the tmpfs log spool's directory name, the API's ETags.
 * Not for anything an attacker must not be able to collide.
 *
 * Computed in two 32-bit halves with plain numbers (a BigInt per byte is ~50× slower on a response
 * body): multiplying by the prime 2^40 + 0x1b3 is `h * 0x1b3 + (h << 40)`, and every intermediate stays
 * below 2^53, so doubles hold it exactly.
 */
const OFFSET_HI = 0xcbf29ce4;
const OFFSET_LO = 0x84222325;
const PRIME_LOW_BITS = 0x1b3;
const TWO_32 = 0x1_0000_0000;

export function fnv1a64(bytes: Uint8Array): string {
  let hi = OFFSET_HI;
  let lo = OFFSET_LO;
  for (const byte of bytes) {
    lo = (lo ^ byte) >>> 0;
    const loProduct = lo * PRIME_LOW_BITS;
    // (h << 40) puts the low half's bottom 24 bits at the top of the high half.
    hi = (hi * PRIME_LOW_BITS + ((lo << 8) >>> 0) + Math.floor(loProduct / TWO_32)) >>> 0;
    lo = loProduct >>> 0;
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}
