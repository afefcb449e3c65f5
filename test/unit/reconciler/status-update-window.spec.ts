/**
 * A release waiting for its update window: the status names the wait and when it ends, and the app
 * reports `downloaded` (its images are there, the switch is pending), the word the cloud report sends.
 */
import assert from 'node:assert/strict';
import { buildAppsReport } from '../../../src/cloud/report-builder.js';
import { computeStatus } from '../../../src/reconciler/status.js';
import {
  APP_A,
  app,
  materialise,
  release,
  service,
  target,
} from '../../support/planner-builders.js';
import { R1, R2 } from '../../support/planner-fixtures.js';

describe('status: waiting for the update window', () => {
  it('says why and until when, and the release is downloaded', () => {
    const running = materialise(
      target(app(APP_A, release(R1, { services: [service(R1, 'api')] }))),
    );
    const next = target(app(APP_A, release(R2, { services: [service(R2, 'api')] })));
    const opens = Date.parse('2026-03-02T02:00:00Z');
    const status = computeStatus({
      target: next,
      current: {
        ...running,
        images: [
          ...running.images,
          {
            ...running.images[0]!,
            id: 'sha256:new',
            repoTags: ['registry.test/api:c2'],
            repoDigests: [],
          },
        ],
      },
      plan: {
        steps: [],
        blockers: [
          { kind: 'outsideUpdateWindow', appUuid: 'aaaa', serviceName: 'api', until: opens },
        ],
      },
      downloads: [],
      acting: new Map(),
      errors: new Map(),
      applying: true,
      phase: 'blocked',
      rounds: 1,
      lastAppliedAt: undefined,
      lastError: undefined,
    });
    const appStatus = status.apps['aaaa']!;
    assert.equal(appStatus.updateStatus, 'downloaded');
    assert.deepEqual(appStatus.services['api']!.waitingFor, { kind: 'updateWindow', until: opens });
    assert.equal(appStatus.services['api']!.status, 'Running', 'the old container still runs');
    const report = buildAppsReport(
      status,
      {
        apps: {
          aaaa: { releases: { c2: { services: { api: { image: 'registry.test/api:c2' } } } } },
        },
      } as never,
      new Map(),
    );
    assert.deepEqual(report['aaaa'], {
      releases: {
        c2: {
          update_status: 'downloaded',
          services: {
            api: { image: 'registry.test/api:c2', status: 'Running', download_progress: null },
          },
        },
      },
      release_uuid: 'c1',
    });
  });
});
