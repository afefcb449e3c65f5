/**
 * An app waiting for disk space, as every reader sees it: the status (service word, why, update status),
 * the cloud report and the dashboard's plain words. The plan comes from the real planner.
 */
import assert from 'node:assert/strict';
import { describeDashboard } from '../../../src/agent/dashboard-view.js';
import { deriveStatusView } from '../../../src/agent/status-view.js';
import { buildAppsReport } from '../../../src/cloud/report-builder.js';
import { planContext } from '../../../src/planner/context.js';
import { plan } from '../../../src/planner/plan.js';
import { computeStatus } from '../../../src/reconciler/status.js';
import {
  APP_A,
  app,
  materialise,
  release,
  service,
  target,
} from '../../support/planner-builders.js';
import { NOW, R1, R2 } from '../../support/planner-fixtures.js';

const MB = 1_000_000;
const api2 = service(R2, 'api');
const t = target(app(APP_A, release(R2, { services: [api2] })));
const current = materialise(target(app(APP_A, release(R1, { services: [service(R1, 'api')] }))));
const blockedPlan = plan(
  t,
  current,
  planContext(NOW, {
    storage: {
      freeBytes: 450 * MB,
      reserveBytes: 256 * MB,
      needBytes: { [api2.image]: 1200 * MB },
      freedBytes: {},
    },
  }),
);
const status = computeStatus({
  target: t,
  current,
  plan: blockedPlan,
  downloads: [],
  acting: new Map(),
  errors: new Map(),
  applying: true,
  phase: 'blocked',
  rounds: 3,
  lastAppliedAt: undefined,
  lastError: undefined,
});

describe('status of an app waiting for disk space', () => {
  it('says so per service, with the bytes, while the release counts as downloading', () => {
    const app = status.apps[APP_A.uuid];
    assert.equal(app?.updateStatus, 'downloading');
    assert.equal(app?.services['api']?.status, 'Insufficient storage');
    assert.deepEqual(app?.services['api']?.waitingFor, {
      kind: 'storage',
      bytesNeeded: 1200 * MB,
      bytesFree: 450 * MB,
      bytesReserved: 256 * MB,
    });
  });

  it('reports it to the cloud as the service status of the target release', () => {
    const image = api2.image;
    const report = buildAppsReport(
      status,
      {
        name: 'd',
        config: {},
        apps: { [APP_A.uuid]: { releases: { c2: { services: { api: { image } } } } } },
      },
      new Map(),
    );
    assert.deepEqual(report, {
      [APP_A.uuid]: {
        releases: {
          c2: {
            update_status: 'downloading',
            services: { api: { image, status: 'Insufficient storage', download_progress: null } },
          },
        },
        release_uuid: 'c1',
      },
    });
  });

  it('shows the image as not there in /v2/state/status and in plain words on the dashboard', () => {
    const snapshot = { status, target: t, current };
    const view = deriveStatusView(snapshot);
    assert.deepEqual(
      view.images.map((i) => [i.status, i.dockerImageId]),
      [['Insufficient storage', null]],
    );
    const dashboard = describeDashboard({
      snapshot,
      plan: blockedPlan,
      device: {
        name: 'pi',
        uuid: 'u',
        deviceType: 'raspberrypi4-64',
        os: 'Debian',
        version: '0.1.0',
        mode: 'cloud',
        connectivity: 'cloud',
        ipAddresses: [],
      },
      now: NOW,
    });
    const words =
      'not enough disk space to download the release: it needs about 1.2 GB, 450 MB is free and 256 MB is kept free';
    assert.equal(dashboard.apps[0]?.waiting, words);
    assert.equal(dashboard.apps[0]?.services[0]?.waiting, words);
    assert.deepEqual(dashboard.plan, [`service api: ${words}`]);
  });
});
