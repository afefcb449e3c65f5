/** The final ordering and rendering of plans: topological, deterministic, and loud about cycles. */
import assert from 'node:assert/strict';
import { isBosunError } from '../../../src/shared/errors.js';
import { orderBlockers, orderSteps } from '../../../src/planner/order.js';
import { renderPlan } from '../../../src/planner/render.js';
import type { Step } from '../../../src/planner/steps.js';

function lock(id: string, dependsOn: string[]): Step {
  return { kind: 'releaseLock', id, reason: `r ${id}`, dependsOn, appUuid: undefined, appId: 1 };
}

describe('planner ordering and rendering', () => {
  it('orders by dependency depth, then id, and sorts/deduplicates dependsOn', () => {
    const ordered = orderSteps([lock('c', ['b', 'a', 'a']), lock('b', []), lock('a', ['b'])]);
    assert.deepEqual(
      ordered.map((s) => s.id),
      ['b', 'a', 'c'],
    );
    assert.deepEqual(ordered[2]?.dependsOn, ['a', 'b']);
  });

  it('throws an INTERNAL BosunError on a dependency cycle instead of emitting a plan that deadlocks', () => {
    assert.throws(
      () => orderSteps([lock('a', ['b']), lock('b', ['a'])]),
      (e: unknown) => isBosunError(e, 'INTERNAL'),
    );
  });

  it('deduplicates blockers regardless of field order and sorts them', () => {
    const blockers = orderBlockers([
      { kind: 'locked', serviceName: 'b', appUuid: 'x' },
      { kind: 'locked', appUuid: 'x', serviceName: 'a' },
      { appUuid: 'x', kind: 'locked', serviceName: 'b' },
    ]);
    assert.deepEqual(
      blockers.map((b) => (b.kind === 'locked' ? b.serviceName : '')),
      ['a', 'b'],
    );
  });

  it('renders one line per step and per blocker, and a converged plan as such', () => {
    assert.equal(renderPlan({ steps: [], blockers: [] }), '(converged)\n');
    const text = renderPlan({
      steps: orderSteps([lock('b', ['a']), lock('a', [])]),
      blockers: [{ kind: 'handoverPending', appUuid: 'x', serviceName: 'api', until: 5 }],
    });
    assert.equal(text, 'a — r a\nb after [a] — r b\nblocked: handoverPending x/api until 5\n');
  });
});
