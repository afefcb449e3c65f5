/**
 * Golden files for rendered plans under test/golden/plans/. `UPDATE_GOLDEN=1` rewrites them; otherwise
 * a mismatch (or a missing file) fails the test with both texts.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden', 'plans');

export function expectGolden(name: string, actual: string): void {
  const file = join(GOLDEN_DIR, `${name}.txt`);
  if (process.env['UPDATE_GOLDEN'] === '1') {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.ok(
    existsSync(file),
    `golden file ${file} is missing: run with UPDATE_GOLDEN=1 to create it`,
  );
  assert.equal(
    actual,
    readFileSync(file, 'utf8'),
    `plan differs from golden ${file} (UPDATE_GOLDEN=1 regenerates)`,
  );
}
