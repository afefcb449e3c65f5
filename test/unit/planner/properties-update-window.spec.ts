/**
 * Property tests of the `outsideUpdateWindow` blocker (fast-check; FC_NUM_RUNS overrides the default of
 * 500 runs): for any target, any current state, any window in any of a few zones (some with
 * daylight-saving changes, one with a 30-minute one) and any time, no round planned outside the window
 * stops a container or removes or retires a running one, every such wait names the time the window
 * opens, and once it opens everything converges.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ContainerState } from '../../../src/domain/model.js';
import { windowState, type UpdateWindow } from '../../../src/domain/update-window.js';
import { planContext } from '../../../src/planner/context.js';
import type { Plan } from '../../../src/planner/steps.js';
import { assertPlannerProperty } from '../../support/planner-property.js';
import { checkConverged, checkPlan } from '../../support/planner-check.js';
import { PlannerSim, renderRun, runToConvergence } from '../../support/planner-sim.js';

const MAX_ROUNDS = 20;
const DAY_MS = 86_400_000;
const { now: _n, pulledImages: _p, ...baseCtx } = planContext(0);

const arbWindow: fc.Arbitrary<UpdateWindow> = fc.record({
  ranges: fc.array(
    fc
      .record({
        start: fc.integer({ min: 0, max: 1439 }),
        length: fc.integer({ min: 1, max: 1439 }),
      })
      .map(({ start, length }) => ({ start, end: (start + length) % 1440 || 1440 })),
    { minLength: 1, maxLength: 3 },
  ),
  timeZone: fc.constantFrom(
    'UTC',
    'Europe/Berlin',
    'America/New_York',
    'Asia/Kolkata',
    'Australia/Lord_Howe',
  ),
});

/** Epoch ms: 1970 as the other properties, and the days around 2026's daylight-saving changes. */
const arbNow = fc
  .tuple(
    fc.constantFrom(
      1_000_000,
      Date.parse('2026-03-07T12:00:00Z'),
      Date.parse('2026-10-24T12:00:00Z'),
    ),
    fc.integer({ min: 0, max: 10 * DAY_MS }),
  )
  .map(([base, offset]) => base + offset);

const ACTIVE = new Set<ContainerState['status']>(['running', 'restarting', 'paused']);

/** Steps the window forbids, judged from the state the plan was made from (not the planner's code). */
function disruptive(p: Plan, containers: readonly ContainerState[]): string[] {
  const active = new Set(containers.filter((c) => ACTIVE.has(c.status)).map((c) => c.id));
  return p.steps
    .filter(
      (s) =>
        s.kind === 'stopContainer' ||
        ((s.kind === 'removeContainer' || s.kind === 'retireContainer') &&
          active.has(s.containerId)),
    )
    .map((s) => s.id);
}

describe('planner properties: update windows', function () {
  this.timeout(600_000);

  it('outside the window nothing running is stopped, removed or retired; once open, it converges', () => {
    let closedRounds = 0;
    assertPlannerProperty(
      { userLocks: false, transientStatuses: false },
      [arbWindow, arbNow],
      ({ target: t, current, pulled }, updateWindow, now) => {
        const ctx = { ...baseCtx, updateWindow };
        const sim = new PlannerSim(current, now, {}, pulled);
        for (let round = 0; round < MAX_ROUNDS; round++) {
          const state = windowState(updateWindow, sim.now);
          const p = sim.plan(t, ctx);
          assert.deepEqual(checkPlan(t, sim.state, p, false), []);
          const waits = p.blockers.filter((b) => b.kind === 'outsideUpdateWindow');
          if (state.open) {
            assert.deepEqual(waits, [], 'no window wait while it is open');
          } else {
            closedRounds++;
            assert.deepEqual(disruptive(p, sim.state.containers), [], 'forbidden outside');
            for (const w of waits) assert.equal(w.until, state.opensAt);
            assert.ok(state.opensAt > sim.now && state.opensAt <= sim.now + DAY_MS + 3_600_000);
            assert.ok(windowState(updateWindow, state.opensAt).open, 'it is open when it opens');
          }
          if (p.steps.length === 0 && p.blockers.length === 0) return;
          if (p.steps.length === 0 && waits.length > 0) break; // only the window holds it
          sim.apply(p, t, false);
        }
        // The window opens (a range is at least a minute; 20 rounds are 20 s): it converges there.
        const state = windowState(updateWindow, sim.now);
        if (!state.open) sim.now = state.opensAt;
        const result = runToConvergence(sim, t, ctx, MAX_ROUNDS);
        assert.ok(result.converged, `no convergence in the window:\n${renderRun(result)}`);
        assert.deepEqual(checkConverged(t, sim.state), [], renderRun(result));
      },
    );
    assert.ok(closedRounds > 0, 'some rounds were planned outside the window');
  });
});
