/**
 * Property tests (fast-check; FC_NUM_RUNS overrides the default of 500 runs per property).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { TargetState } from '../../../src/domain/model.js';
import { planContext } from '../../../src/planner/context.js';
import { plan } from '../../../src/planner/plan.js';
import { renderPlan } from '../../../src/planner/render.js';
import { materialise } from '../../support/planner-builders.js';
import { arbTarget, randomTopological, shuffled } from '../../support/planner-arbitraries.js';
import { assertPlannerProperty, PROPERTY_RUNS } from '../../support/planner-property.js';
import { seededRandom } from '../../support/seeded-random.js';
import { checkConverged, checkPlan } from '../../support/planner-check.js';
import { PlannerSim, renderRun, runToConvergence } from '../../support/planner-sim.js';

const NOW = 1_000_000;
const MAX_ROUNDS = 20;
const { now: _n, pulledImages: _p, ...baseCtx } = planContext(NOW);

describe('planner properties', function () {
  this.timeout(600_000);

  it('a target equal to the current state gives an empty plan and no blockers', () => {
    fc.assert(
      fc.property(arbTarget, (t) => {
        const p = plan(t, materialise(t), planContext(NOW));
        assert.equal(renderPlan(p), '(converged)\n');
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  it('every valid target converges from any current state, safely and without oscillating', () => {
    assertPlannerProperty(
      { userLocks: false, transientStatuses: false },
      [fc.integer(), fc.boolean(), fc.boolean(), fc.boolean()],
      ({ target: t, current, pulled }, seed, signal, keepImages, keepVolumes) => {
        const ctx = { ...baseCtx, keepImages, keepVolumes };
        const rand = seededRandom(seed);
        const sim = new PlannerSim(
          current,
          NOW,
          { handoverSignal: signal, order: (steps) => randomTopological(steps, rand) },
          pulled,
        );
        let problems: string[] = [];
        // Check every round's plan statically before the simulation runs it.
        const originalPlan = sim.plan.bind(sim);
        sim.plan = (target, roundCtx) => {
          const p = originalPlan(target, roundCtx);
          problems = problems.concat(
            checkPlan(
              target,
              sim.state,
              p,
              roundCtx.force || roundCtx.lockOverride,
              roundCtx.keepVolumes,
            ),
          );
          return p;
        };
        const result = runToConvergence(sim, t, ctx, MAX_ROUNDS);
        assert.deepEqual(problems, [], renderRun(result));
        assert.ok(
          result.converged,
          `no convergence in ${MAX_ROUNDS} rounds:\n${renderRun(result)}`,
        );
        assert.deepEqual(checkConverged(t, sim.state), [], renderRun(result));
      },
    );
  });

  it('user locks: nothing locked is touched without force; with force everything converges', () => {
    assertPlannerProperty(
      { userLocks: true, transientStatuses: true },
      [fc.boolean()],
      ({ target: t, current, pulled }, force) => {
        const ctx = { ...baseCtx, force };
        const sim = new PlannerSim(current, NOW, {}, pulled);
        for (let round = 0; round < MAX_ROUNDS; round++) {
          const p = sim.plan(t, ctx);
          assert.deepEqual(checkPlan(t, sim.state, p, force), []);
          if (p.steps.length === 0 && p.blockers.length === 0) break;
          sim.apply(p, t, force);
        }
        if (force) {
          const stable = current.containers.every(
            (c) => c.status !== 'restarting' && c.status !== 'paused',
          );
          if (stable) assert.deepEqual(checkConverged(t, sim.state), []);
        }
      },
    );
  });

  it('shuffling the order of apps, services, containers, images, networks and volumes gives the same plan', () => {
    assertPlannerProperty(
      { userLocks: true, transientStatuses: true },
      [fc.integer()],
      ({ target: t, current, pulled }, seed) => {
        const ctx = planContext(NOW, { pulledImages: pulled });
        const shuffledInput = shuffled(t, current, seed);
        const a = renderPlan(plan(t, current, ctx));
        const b = renderPlan(
          plan(shuffledInput.target, shuffledInput.current, {
            ...ctx,
            pulledImages: [...pulled].reverse(),
          }),
        );
        assert.equal(b, a);
      },
    );
  });

  it('health-gated rollback: images of the last confirmed release (protectedImages) are never cleaned up', () => {
    assertPlannerProperty(
      { userLocks: false, transientStatuses: false },
      [fc.integer()],
      ({ target: t, current, pulled }, seed) => {
        // delete-then-download removes the old images on purpose (for space): a rollback then downloads.
        const target = withoutDeleteThenDownload(t);
        const rand = seededRandom(seed);
        const kept = current.images.filter(() => rand() < 0.5);
        const protectedImages = kept.flatMap((i) => i.repoTags.slice(0, 1));
        const keptIds = new Set(kept.filter((i) => i.repoTags.length > 0).map((i) => i.id));
        const sim = new PlannerSim(current, NOW, {}, pulled);
        const removed: string[] = [];
        const originalPlan = sim.plan.bind(sim);
        sim.plan = (roundTarget, roundCtx) => {
          const p = originalPlan(roundTarget, roundCtx);
          for (const step of p.steps)
            if (step.kind === 'removeImage' && keptIds.has(step.engineImageId))
              removed.push(step.id);
          return p;
        };
        const result = runToConvergence(sim, target, { ...baseCtx, protectedImages }, MAX_ROUNDS);
        assert.deepEqual(removed, [], renderRun(result));
        assert.ok(result.converged, renderRun(result));
      },
    );
  });
});

function withoutDeleteThenDownload(t: TargetState): TargetState {
  const apps = Object.fromEntries(
    Object.entries(t.apps).map(([uuid, a]) => {
      if (a.release === undefined) return [uuid, a];
      const services = Object.fromEntries(
        Object.entries(a.release.services).map(([name, s]) => [
          name,
          s.updateStrategy === 'delete-then-download'
            ? { ...s, updateStrategy: 'download-then-kill' as const }
            : s,
        ]),
      );
      return [uuid, { ...a, release: { ...a.release, services } }];
    }),
  );
  return { ...t, apps };
}
