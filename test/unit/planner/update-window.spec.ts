/**
 * Update windows in the planner, with an injected clock (ctx.now): outside the window the switch of a
 * running service waits (an `outsideUpdateWindow` blocker with the time the window opens) while
 * downloads go on; inside it, or forced, the plan is the plain one. Golden plans under test/golden/plans/.
 */
import assert from 'node:assert/strict';
import type { CurrentState, TargetState } from '../../../src/domain/model.js';
import { parseWindowRanges, type UpdateWindow } from '../../../src/domain/update-window.js';
import { planContext, type PlanContext } from '../../../src/planner/context.js';
import { plan } from '../../../src/planner/plan.js';
import { renderPlan } from '../../../src/planner/render.js';
import type { Plan } from '../../../src/planner/steps.js';
import {
  APP_A,
  APP_B,
  app,
  containerFor,
  image,
  materialise,
  release,
  service,
  target,
} from '../../support/planner-builders.js';
import { B1, R1, R2, kinds } from '../../support/planner-fixtures.js';
import { expectGolden } from '../../support/planner-golden.js';

const at = (iso: string): number => Date.parse(iso);
const window = (raw: string, timeZone = 'UTC'): UpdateWindow => ({
  ranges: parseWindowRanges(raw) ?? assert.fail(`${raw} does not parse`),
  timeZone,
});
const planAt = (
  t: TargetState,
  current: CurrentState,
  now: number,
  o: Partial<PlanContext> = {},
): Plan => plan(t, current, planContext(now, o));

const api1 = service(R1, 'api');
const worker1 = service(R1, 'worker');
const running1 = materialise(target(app(APP_A, release(R1, { services: [api1, worker1] }))));
const release2 = target(
  app(APP_A, release(R2, { services: [service(R2, 'api'), service(R2, 'worker')] })),
);
const images2 = {
  ...running1,
  images: [...running1.images, image('registry.test/api:c2'), image('registry.test/worker:c2')],
};
const nightly = window('02:00-04:00');
const DISRUPTIVE = new Set(['stopContainer', 'removeContainer', 'retireContainer']);

function waits(p: Plan): { serviceName: string; until: number }[] {
  return p.blockers.flatMap((b) =>
    b.kind === 'outsideUpdateWindow' ? [{ serviceName: b.serviceName, until: b.until }] : [],
  );
}

describe('planner: update windows', () => {
  it('outside the window a release waits for it, its services named, with the time it opens', () => {
    const now = at('2026-03-01T05:00:00Z');
    const p = planAt(release2, images2, now, { updateWindow: nightly });
    assert.deepEqual(p.steps, [], 'nothing is stopped, removed or created');
    assert.deepEqual(waits(p), [
      { serviceName: 'api', until: at('2026-03-02T02:00:00Z') },
      { serviceName: 'worker', until: at('2026-03-02T02:00:00Z') },
    ]);
    expectGolden('update-window-closed-waits', renderPlan(p));
  });

  it('outside the window downloads go on, so the switch inside it is quick', () => {
    const p = planAt(release2, running1, at('2026-03-01T05:00:00Z'), { updateWindow: nightly });
    assert.deepEqual(kinds(p), ['pullImage', 'pullImage']);
    expectGolden('update-window-closed-downloads', renderPlan(p));
  });

  it('inside the window the plan is the one without a window', () => {
    const now = at('2026-03-01T03:00:00Z');
    const inside = planAt(release2, images2, now, { updateWindow: nightly });
    assert.equal(renderPlan(inside), renderPlan(planAt(release2, images2, now)));
    assert.ok(inside.steps.some((s) => s.kind === 'stopContainer'));
    assert.deepEqual(waits(inside), []);
  });

  it('a window across midnight is open on both sides of midnight and waits after its end', () => {
    const late = window('22:00-02:00');
    for (const iso of ['2026-03-01T23:30:00Z', '2026-03-02T01:30:00Z'])
      assert.deepEqual(waits(planAt(release2, images2, at(iso), { updateWindow: late })), [], iso);
    const after = planAt(release2, images2, at('2026-03-02T02:30:00Z'), { updateWindow: late });
    assert.equal(after.steps.length, 0);
    assert.deepEqual(
      waits(after).map((w) => w.until),
      [at('2026-03-02T22:00:00Z'), at('2026-03-02T22:00:00Z')],
    );
  });

  it("reads the window on its zone's wall clock", () => {
    // 01:30Z is 02:30 in Berlin in winter: inside there, outside in UTC (opens at 02:00Z).
    const now = at('2026-01-15T01:30:00Z');
    const berlin = planAt(release2, images2, now, {
      updateWindow: window('02:00-04:00', 'Europe/Berlin'),
    });
    assert.deepEqual(waits(berlin), []);
    assert.ok(berlin.steps.some((s) => s.kind === 'stopContainer'));
    const utc = planAt(release2, images2, now, { updateWindow: nightly });
    assert.deepEqual(
      waits(utc).map((w) => w.until),
      [at('2026-01-15T02:00:00Z'), at('2026-01-15T02:00:00Z')],
    );
  });

  it('a forced apply and the lock override go through outside the window', () => {
    const now = at('2026-03-01T05:00:00Z');
    const plain = renderPlan(planAt(release2, images2, now));
    for (const o of [{ force: true }, { lockOverride: true }]) {
      const forced = planAt(release2, images2, now, { updateWindow: nightly, ...o });
      assert.deepEqual(waits(forced), [], JSON.stringify(o));
      // Forcing changes how locks are taken (takeLock force) but not which containers are switched.
      assert.deepEqual(
        forced.steps.map((s) => s.id),
        planAt(release2, images2, now, o).steps.map((s) => s.id),
      );
      assert.ok(
        forced.steps.some((s) => s.kind === 'stopContainer'),
        plain,
      );
    }
  });

  it('new services and stopped containers start outside the window; a removed app waits', () => {
    const now = at('2026-03-01T05:00:00Z');
    const extra = service(R1, 'extra');
    const withExtra = target(
      app(APP_A, release(R1, { services: [api1, worker1, extra] })),
      app(APP_B, undefined),
    );
    const current: CurrentState = {
      ...running1,
      images: [...running1.images, image(extra.image)],
      containers: [
        ...running1.containers.filter((c) => c.serviceName !== 'worker'),
        containerFor(APP_A, worker1, { status: 'exited', exitCode: 1 }),
        containerFor(APP_B, service(B1, 'db')),
      ],
    };
    const p = planAt(withExtra, current, now, { updateWindow: nightly });
    const ids = p.steps.map((s) => s.id);
    assert.ok(ids.includes(`createContainer:aaaa:extra:${extra.containerName}`), ids.join('\n'));
    assert.ok(ids.includes(`startContainer:aaaa:extra:${extra.containerName}`), ids.join('\n'));
    assert.ok(!p.steps.some((s) => DISRUPTIVE.has(s.kind)), ids.join('\n'));
    assert.deepEqual(
      p.blockers.filter((b) => b.kind === 'outsideUpdateWindow').map((b) => b.appUuid),
      ['bbbb'],
    );
    expectGolden('update-window-closed-new-service-and-removed-app', renderPlan(p));
  });
});
