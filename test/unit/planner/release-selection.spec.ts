/** The pure choice of health-gated rollback: which release of each app the planner sees. */
import assert from 'node:assert/strict';
import { selectReleases, type ReleaseVerdicts } from '../../../src/planner/index.js';

const r1 = { commit: 'c1', docHash: 'h1' };
const r2 = { commit: 'c2', docHash: 'h2' };
const r2env = { commit: 'c2', docHash: 'h2-env' };
const r3 = { commit: 'c3', docHash: 'h3' };
const failed2 = { ...r2, reason: 'service main: its healthcheck reports unhealthy' };

const verdicts = (v: Partial<ReleaseVerdicts>): ReleaseVerdicts => ({
  confirmed: v.confirmed ?? {},
  failed: v.failed ?? {},
});

describe('selectReleases (health-gated rollback target selection)', () => {
  it('no verdicts: every app gets its stored release', () => {
    const s = selectReleases({ a: r2, b: r1 }, verdicts({}), true);
    assert.deepEqual(s, { rolledBack: [], noFallback: [], staleFailures: [], gone: [] });
  });

  it('the stored release failed and an older one was confirmed: that app rolls back, others do not', () => {
    const s = selectReleases(
      { a: r2, b: r3 },
      verdicts({ confirmed: { a: r1, b: r1 }, failed: { a: failed2 } }),
      true,
    );
    assert.deepEqual(s.rolledBack, ['a']);
    assert.deepEqual(s.noFallback, []);
  });

  it('a different target arrived (new commit or only a new document): the failure is stale, no rollback', () => {
    for (const next of [r3, r2env]) {
      const s = selectReleases(
        { a: next },
        verdicts({ confirmed: { a: r1 }, failed: { a: failed2 } }),
        true,
      );
      assert.deepEqual(s.rolledBack, [], JSON.stringify(next));
      assert.deepEqual(s.staleFailures, ['a']);
    }
  });

  it('the failed release was the first on this device: nothing to go back to, it stays', () => {
    const s = selectReleases({ a: r2 }, verdicts({ failed: { a: failed2 } }), true);
    assert.deepEqual(s.rolledBack, []);
    assert.deepEqual(s.noFallback, ['a']);
  });

  it('the confirmed release is the failed one (a stale row): no rollback loop onto itself', () => {
    const s = selectReleases(
      { a: r2 },
      verdicts({ confirmed: { a: r2 }, failed: { a: failed2 } }),
      true,
    );
    assert.deepEqual(s.rolledBack, []);
    assert.deepEqual(s.noFallback, ['a']);
  });

  it('switched off: the stored release is served even after a failure', () => {
    const s = selectReleases(
      { a: r2 },
      verdicts({ confirmed: { a: r1 }, failed: { a: failed2 } }),
      false,
    );
    assert.deepEqual(s.rolledBack, []);
    assert.deepEqual(s.noFallback, []);
  });

  it('apps that left the target are named, so their verdicts and protected images go', () => {
    const s = selectReleases(
      { b: r1 },
      verdicts({ confirmed: { a: r1 }, failed: { c: failed2 } }),
      true,
    );
    assert.deepEqual(s.gone, ['a', 'c']);
  });

  it('is deterministic: app order does not matter', () => {
    const v = verdicts({ confirmed: { a: r1, b: r1 }, failed: { a: failed2, b: failed2 } });
    assert.deepEqual(
      selectReleases({ b: r2, a: r2 }, v, true),
      selectReleases({ a: r2, b: r2 }, v, true),
    );
  });
});
