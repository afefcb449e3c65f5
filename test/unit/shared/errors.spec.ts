import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  BosunError,
  ERROR_REGISTRY,
  isBosunError,
  toBosunError,
} from '../../../src/shared/errors.js';

describe('error registry', () => {
  const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

  for (const [code, def] of Object.entries(ERROR_REGISTRY)) {
    it(`documents ${code} with its HTTP status`, () => {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
      assert.ok(row, `docs/errors.md has no row for ${code}`);
      assert.ok(
        row.includes(`| ${def.httpStatus} |`),
        `docs/errors.md gives the wrong status for ${code}`,
      );
    });
  }

  it('has no documented code that the registry lacks', () => {
    const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual(documented.sort(), Object.keys(ERROR_REGISTRY).sort());
  });

  it('keeps the cause and exposes status and retryability', () => {
    const cause = new Error('socket hang up');
    const err = new BosunError('ENGINE_UNREACHABLE', 'engine down', { cause });
    assert.equal(err.cause, cause);
    assert.equal(err.httpStatus, 503);
    assert.equal(err.retryable, true);
    assert.ok(isBosunError(err, 'ENGINE_UNREACHABLE'));
    assert.ok(!isBosunError(err, 'NOT_FOUND'));
  });

  it('wraps foreign errors without losing them', () => {
    const raw = new TypeError('boom');
    const wrapped = toBosunError(raw, 'ENGINE_ERROR');
    assert.equal(wrapped.code, 'ENGINE_ERROR');
    assert.equal(wrapped.message, 'boom');
    assert.equal(wrapped.cause, raw);
    assert.equal(toBosunError(wrapped), wrapped);
  });
});
