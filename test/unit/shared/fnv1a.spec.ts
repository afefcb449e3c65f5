/** 64-bit FNV-1a in two 32-bit halves (src/shared/fnv1a.ts) against the published vectors and BigInt. */
import assert from 'node:assert/strict';
import { fnv1a64 } from '../../../src/shared/fnv1a.js';
import { seededRandom } from '../../support/seeded-random.js';

/** The definition, one BigInt multiplication per byte. */
function reference(bytes: Uint8Array): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return hash.toString(16).padStart(16, '0');
}

describe('fnv1a64', () => {
  it('gives the published FNV-1a 64 values', () => {
    // From the FNV reference test suite (isthe.com/chongo/src/fnv/test_fnv.c).
    assert.equal(fnv1a64(Buffer.from('')), 'cbf29ce484222325');
    assert.equal(fnv1a64(Buffer.from('a')), 'af63dc4c8601ec8c');
    assert.equal(fnv1a64(Buffer.from('foobar')), '85944171f73967e8');
  });

  it('equals the BigInt definition on random inputs, carries between the halves included', () => {
    const random = seededRandom(16);
    for (let n = 0; n < 500; n++) {
      const bytes = Uint8Array.from({ length: n % 97 }, () => Math.floor(random() * 256));
      assert.equal(fnv1a64(bytes), reference(bytes), Buffer.from(bytes).toString('hex'));
    }
  });
});
