/**
 * The plans that replaced side channels (the supervisor network, leaving local mode, volume clean-up)
 * and a long stop in progress, against golden plans (test/golden/plans/<name>.txt; UPDATE_GOLDEN=1
 * regenerates). Each also asserts the behaviour it is about.
 */
import assert from 'node:assert/strict';
import { DEFAULT_SUPERVISOR_NETWORK } from '../../../src/domain/context.js';
import { planLocalModeExit, planVolumeCleanup } from '../../../src/planner/index.js';
import { renderPlan } from '../../../src/planner/render.js';
import {
  APP_A,
  APP_B,
  app,
  emptyCurrent,
  image,
  materialise,
  release,
  service,
  target,
  volume,
} from '../../support/planner-builders.js';
import { B1, R1, ancestors, ids, run, step } from '../../support/planner-fixtures.js';
import { expectGolden } from '../../support/planner-golden.js';

const api1 = service(R1, 'api');
const worker1 = service(R1, 'worker');
const running1 = materialise(target(app(APP_A, release(R1, { services: [api1, worker1] }))));

describe('planner scenarios: no side channels, work in progress (golden)', () => {
  it('supervisor-network-created-before-a-container-joins-it', () => {
    const joining = service(R1, 'api');
    joining.createSpec = {
      ...joining.createSpec,
      NetworkingConfig: {
        EndpointsConfig: {
          ...joining.createSpec.NetworkingConfig?.EndpointsConfig,
          [DEFAULT_SUPERVISOR_NETWORK.name]: {},
        },
      },
    };
    const t = target(app(APP_A, release(R1, { services: [joining, worker1] })));
    const current = {
      ...materialise(t),
      containers: [],
      supervisorNetwork: false,
    };
    const ctx = { supervisorNetwork: DEFAULT_SUPERVISOR_NETWORK };
    const p = run({ target: t, current, ctx });
    const create = 'createSupervisorNetwork:supervisor0';
    assert.ok(ids(p).includes(create));
    assert.ok(step(p, 'createContainer:aaaa:api:api_1031_1_c1').dependsOn.includes(create));
    assert.ok(!step(p, 'createContainer:aaaa:worker:worker_1061_1_c1').dependsOn.includes(create));
    expectGolden('supervisor-network-created-before-a-container-joins-it', renderPlan(p));
    // Present, or not managed: never planned.
    for (const other of [
      { current: { ...current, supervisorNetwork: true }, ctx },
      { current, ctx: {} },
    ])
      assert.ok(!ids(run({ target: t, ...other })).includes(create));
  });

  it('long-stop-in-progress-is-not-planned-again', () => {
    // api is to be stopped (running: false) and its stop is already running outside the rounds.
    const t = target(
      app(APP_A, release(R1, { services: [service(R1, 'api', { running: false }), worker1] })),
    );
    const current = {
      ...running1,
      containers: running1.containers.map((c) =>
        c.serviceName === 'api' ? { ...c, stopping: true } : c,
      ),
    };
    const p = run({ target: t, current });
    assert.ok(!ids(p).some((id) => id.startsWith('stopContainer:aaaa:api')), 'not stopped twice');
    assert.ok(!ids(p).includes('takeLock:1'), 'no lock taken for a stop that is not planned');
    assert.ok(
      p.blockers.some((b) => b.kind === 'containerStopping' && b.serviceName === 'api'),
      'shown as stopping',
    );
    const without = run({ target: t, current: running1 });
    assert.ok(ids(without).some((id) => id.startsWith('stopContainer:aaaa:api')));
    expectGolden('long-stop-in-progress-is-not-planned-again', renderPlan(p));
  });

  it('local-mode-exit-removes-only-the-local-apps', () => {
    const local = materialise(target(app(APP_B, release(B1, { services: [service(B1, 'web')] }))));
    const cloud = running1;
    const current = {
      ...cloud,
      containers: [...cloud.containers, ...local.containers],
      networks: [...cloud.networks, ...local.networks],
      images: [...cloud.images, ...local.images, image('local_web')],
      volumes: [...cloud.volumes, localVolume(APP_B.appId)],
    };
    const p = planLocalModeExit(
      { apps: [APP_B.uuid], images: ['local_web', 'local_gone'] },
      current,
    );
    const discard = ids(p).filter((id) => id.startsWith('discardContainer:'));
    assert.equal(discard.length, 1);
    assert.ok(discard[0]?.includes(APP_B.uuid));
    assert.ok(ids(p).includes('removeNetwork:bbbb_default'));
    assert.ok(ancestors(p, 'removeNetwork:bbbb_default').has(discard[0]!));
    assert.ok(ids(p).includes('removeImage:local_web'), 'the local build goes');
    assert.ok(!ids(p).some((id) => id.includes('local_gone')), 'an image already gone is skipped');
    assert.ok(!p.steps.some((s) => s.kind === 'removeVolume'), 'volumes stay');
    assert.ok(!ids(p).some((id) => id.includes(APP_A.uuid)), 'the cloud app is untouched');
    expectGolden('local-mode-exit-removes-only-the-local-apps', renderPlan(p));
  });

  it('volume-cleanup-removes-unused-managed-volumes', () => {
    const supervised = { 'io.balena.supervised': 'true' };
    const vol = (name: string, appId: number, labels: Record<string, string> = supervised) => ({
      engineName: `${appId}_${name}`,
      appId,
      appUuid: undefined,
      configHash: undefined,
      labels,
    });
    const t = target(
      app(APP_A, release(R1, { services: [api1], volumes: [volume(APP_A, 'data')] })),
    );
    const current = {
      ...emptyCurrent(),
      volumes: [
        vol('data', APP_A.appId), // the target uses it
        vol('old', APP_A.appId), // unused: goes
        vol('mounted', APP_A.appId), // a user's container mounts it
        vol('foreign', APP_A.appId, {}), // not bosun's
        vol('other', APP_B.appId), // another app's
      ],
    };
    const mounted = new Set([`${APP_A.appId}_mounted`]);
    const p = planVolumeCleanup({ appId: APP_A.appId, mounted }, t, current);
    assert.deepEqual(ids(p), [`removeVolume:${APP_A.appId}_old`]);
    const all = planVolumeCleanup({ appId: undefined, mounted }, t, current);
    assert.deepEqual(ids(all).sort(), [
      `removeVolume:${APP_A.appId}_old`,
      `removeVolume:${APP_B.appId}_other`,
    ]);
    expectGolden('volume-cleanup-removes-unused-managed-volumes', renderPlan(all));
  });
});

function localVolume(appId: number) {
  return {
    engineName: `${appId}_data`,
    appId,
    appUuid: APP_B.uuid,
    configHash: undefined,
    labels: { 'io.balena.supervised': 'true' },
  };
}
