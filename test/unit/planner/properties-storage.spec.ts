/**
 * Property tests of the disk preflight (fast-check; FC_NUM_RUNS overrides the default of 500 runs):
 * an app blocked by `insufficientStorage` has no step planned, the downloads planned never need more
 * than the free space minus the reserve plus what the plan removes first, and when everything fits the
 * preflight changes nothing.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { CurrentState, TargetState } from '../../../src/domain/model.js';
import { planContext, type StorageFacts } from '../../../src/planner/context.js';
import { plan } from '../../../src/planner/plan.js';
import { renderPlan } from '../../../src/planner/render.js';
import type { Plan } from '../../../src/planner/steps.js';
import { assertPlannerProperty } from '../../support/planner-property.js';
import { PlannerSim } from '../../support/planner-sim.js';

const NOW = 1_000_000;
const MAX_ROUNDS = 12;

/** A stable pseudo-random size for `key` (FNV-1a mixed with the run's seed), below `max`. */
function sizeOf(key: string, seed: number, max: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return h % max;
}

const arbStorage = fc.record({
  free: fc.nat(2000),
  reserve: fc.nat(300),
  seed: fc.integer(),
  /** Every n-th image has no estimate (its manifest could not be read); 0: all have one. */
  unknownEvery: fc.nat(4),
});

function storageFacts(
  t: TargetState,
  current: CurrentState,
  s: { free: number; reserve: number; seed: number; unknownEvery: number },
): StorageFacts {
  const needBytes: Record<string, number> = {};
  const refs = [
    ...new Set(
      Object.values(t.apps).flatMap((a) =>
        Object.values(a.release?.services ?? {}).map((x) => x.image),
      ),
    ),
  ].sort();
  refs.forEach((ref, i) => {
    if (s.unknownEvery === 0 || i % s.unknownEvery !== 0) needBytes[ref] = sizeOf(ref, s.seed, 800);
  });
  const freedBytes: Record<string, number> = {};
  for (const image of current.images) freedBytes[image.id] = sizeOf(image.id, s.seed, 400);
  return { freeBytes: s.free, reserveBytes: s.reserve, needBytes, freedBytes };
}

/** What the preflight forbids, as a list of problems (empty when the plan respects it). */
function storageProblems(p: Plan, current: CurrentState, facts: StorageFacts): string[] {
  const problems: string[] = [];
  const need = (image: string): number => facts.needBytes[image] ?? 0;
  for (const b of p.blockers) {
    if (b.kind !== 'insufficientStorage') continue;
    for (const s of p.steps)
      if (s.appUuid === b.appUuid) problems.push(`${s.id} planned for blocked app ${b.appUuid}`);
  }
  const pulls = p.steps.flatMap((s) => (s.kind === 'pullImage' ? [s] : []));
  const needed = pulls.reduce((sum, s) => sum + need(s.image), 0);
  const inFlight = current.downloads.reduce((sum, d) => sum + need(d.image), 0);
  const freed = p.steps.reduce(
    (sum, s) => sum + (s.kind === 'removeImage' ? (facts.freedBytes[s.engineImageId] ?? 0) : 0),
    0,
  );
  const room = facts.freeBytes - facts.reserveBytes - inFlight + freed;
  if (needed > 0 && needed > room)
    problems.push(`downloads need ${needed} B with only ${room} B of room`);
  return problems;
}

describe('planner properties: disk preflight', function () {
  this.timeout(600_000);

  it('no step of an app blocked by insufficientStorage, and downloads never need more than the room', () => {
    assertPlannerProperty(
      { userLocks: false, transientStatuses: true },
      [arbStorage, fc.boolean()],
      ({ target: t, current, pulled }, s, keepImages) => {
        const sim = new PlannerSim(current, NOW, {}, pulled);
        for (let round = 0; round < MAX_ROUNDS; round++) {
          // Measured again each round, as the reconciler does: the sim's state changes.
          const facts = storageFacts(t, sim.state, s);
          const ctx = { ...planContext(NOW), keepImages, storage: facts };
          const p = sim.plan(t, ctx);
          assert.deepEqual(storageProblems(p, sim.state, facts), [], renderPlan(p));
          if (p.steps.length === 0) break;
          sim.apply(p, t, false);
        }
      },
    );
  });

  it('when everything fits, the preflight changes nothing', () => {
    assertPlannerProperty(
      { userLocks: true, transientStatuses: true },
      [fc.integer()],
      ({ target: t, current, pulled }, seed) => {
        const ctx = planContext(NOW, { pulledImages: pulled });
        const facts = storageFacts(t, current, {
          free: 1e12,
          reserve: 1e9,
          seed,
          unknownEvery: 3,
        });
        assert.equal(
          renderPlan(plan(t, current, { ...ctx, storage: facts })),
          renderPlan(plan(t, current, ctx)),
        );
      },
    );
  });

  it('a device without room plans no download at all, and says why for each app that needs one', () => {
    assertPlannerProperty(
      { userLocks: false, transientStatuses: false },
      [],
      ({ target: t, current }) => {
        // Nothing we pulled to remove: only the strategy's own removals could make room.
        const facts = storageFacts(t, current, { free: 0, reserve: 0, seed: 1, unknownEvery: 0 });
        const known = Object.fromEntries(
          Object.entries(facts.needBytes).map(([ref, n]) => [ref, n + 1]),
        );
        const p = plan(t, current, {
          ...planContext(NOW),
          storage: { ...facts, needBytes: known, freedBytes: {} },
        });
        assert.deepEqual(
          p.steps.filter((x) => x.kind === 'pullImage').map((x) => x.id),
          [],
        );
        const waiting = new Set(
          p.blockers.filter((b) => b.kind === 'insufficientStorage').map((b) => b.appUuid),
        );
        const plainPulls = plan(t, current, planContext(NOW)).steps.filter(
          (x) => x.kind === 'pullImage',
        );
        for (const pull of plainPulls)
          assert.ok(waiting.has(pull.appUuid ?? ''), `${pull.id} waits with a reason`);
      },
    );
  });
});
