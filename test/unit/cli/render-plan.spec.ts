/**
 * `bosun plan` text, pinned by golden files (test/golden/plans/preview-*.txt; UPDATE_GOLDEN=1
 * regenerates): the preview of real planner plans (a release switch with a download, a release held by
 * its update window, nothing to do), through the same describePreview the API answers with.
 */
import assert from 'node:assert/strict';
import { describePreview } from '../../../src/agent/plan-preview.js';
import { PlanPreviewResponse } from '../../../src/api/plan-schemas.js';
import { renderPlanPreview } from '../../../src/cli/render-plan.js';
import { parseWindowRanges } from '../../../src/domain/update-window.js';
import { planContext } from '../../../src/planner/context.js';
import { plan } from '../../../src/planner/plan.js';
import {
  APP_A,
  app,
  image,
  materialise,
  release,
  service,
  target,
} from '../../support/planner-builders.js';
import { R1, R2 } from '../../support/planner-fixtures.js';
import { expectGolden } from '../../support/planner-golden.js';

const running1 = materialise(
  target(app(APP_A, release(R1, { services: [service(R1, 'api'), service(R1, 'worker')] }))),
);
const release2 = target(
  app(
    APP_A,
    release(R2, {
      services: [
        service(R2, 'api'),
        service(R2, 'worker', { image: 'registry.test/worker:c1', imageId: 1061 }),
      ],
    }),
  ),
);
const NIGHT = Date.parse('2026-03-01T05:00:00Z');

describe('bosun plan: the text it prints', () => {
  it('a release switch: steps with what they wait for and why, then the downloads', () => {
    const view = describePreview(plan(release2, running1, planContext(NIGHT)), 'given');
    assert.equal(PlanPreviewResponse().safeParse(view).success, true);
    assert.deepEqual(view.downloads, [{ image: 'registry.test/api:c2', bytes: null }]);
    expectGolden('preview-release-switch', renderPlanPreview(view));
  });

  it('a release held by its update window: the blockers say until when', () => {
    const withImage = { ...running1, images: [...running1.images, image('registry.test/api:c2')] };
    const updateWindow = { ranges: parseWindowRanges('02:00-04:00') ?? [], timeZone: 'UTC' };
    const view = describePreview(
      plan(release2, withImage, planContext(NIGHT, { updateWindow })),
      'stored',
    );
    assert.deepEqual(
      view.blockers.map((b) => [b.kind, b.serviceName, b.until]),
      [['outsideUpdateWindow', 'api', Date.parse('2026-03-02T02:00:00Z')]],
    );
    expectGolden('preview-update-window', renderPlanPreview(view));
  });

  it('nothing to do says so', () => {
    const view = describePreview(
      plan(
        target(app(APP_A, release(R1, { services: [service(R1, 'api'), service(R1, 'worker')] }))),
        running1,
        planContext(NIGHT),
      ),
      'stored',
    );
    assert.equal(view.converged, true);
    assert.equal(
      renderPlanPreview(view),
      'Nothing to do for the stored target: the device already runs it.\n',
    );
  });
});
