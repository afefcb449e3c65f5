/**
 * Release updates of one app, one round each, against golden plans (test/golden/plans/<name>.txt;
 * UPDATE_GOLDEN=1 regenerates). Each scenario also asserts the behaviour it is about.
 */
import assert from 'node:assert/strict';
import { renderPlan } from '../../../src/planner/render.js';
import {
  APP_A,
  app,
  containerFor,
  emptyCurrent,
  image,
  imageIdOf,
  iso,
  materialise,
  release,
  service,
  target,
  volume,
} from '../../support/planner-builders.js';
import {
  NOW,
  R1,
  R2,
  type Scenario,
  ancestors,
  ids,
  kinds,
  run,
  step,
  stepsOf,
} from '../../support/planner-fixtures.js';
import { expectGolden } from '../../support/planner-golden.js';

const api1 = service(R1, 'api');
const worker1 = service(R1, 'worker');
const running1 = materialise(target(app(APP_A, release(R1, { services: [api1, worker1] }))));
const withImages = (...refs: string[]) => ({
  ...running1,
  images: [...running1.images, ...refs.map(image)],
});

const scenarios: Scenario[] = [
  {
    // Drift is a config hash: same release, same image, same container name, only the service's
    // configuration changed (an env var, say). The container must be replaced; only this comparison
    // tells (removing it from the service planner fails this scenario, not just the property tests).
    name: 'config-only-change-recreates',
    target: target(
      app(
        APP_A,
        release(R1, { services: [service(R1, 'api', { configHash: 'cfg-new' }), worker1] }),
      ),
    ),
    current: running1,
    expect: (p) => {
      const create = 'createContainer:aaaa:api:api_1031_1_c1';
      assert.ok(ids(p).includes(create), 'api is recreated');
      for (const id of [
        'stopContainer:aaaa:api:id-api_1031_1_c1',
        'removeContainer:aaaa:api:id-api_1031_1_c1',
      ])
        assert.ok(ancestors(p, create).has(id), `${create} runs after ${id}`);
      assert.ok(
        p.steps.every((s) => !('serviceName' in s) || s.serviceName !== 'worker'),
        'worker, unchanged, is left alone',
      );
      assert.equal(stepsOf(p, 'pullImage').length, 0, 'the image is already there');
    },
  },
  {
    name: 'first-install-downloads-and-prepares',
    target: target(
      app(
        APP_A,
        release(R1, {
          services: [service(R1, 'api', { volumes: ['data'] })],
          volumes: [volume(APP_A, 'data')],
        }),
      ),
    ),
    current: emptyCurrent(),
    expect: (p) => {
      assert.deepEqual(kinds(p).sort(), ['createNetwork', 'createVolume', 'pullImage']);
    },
  },
  {
    name: 'first-install-images-present-creates-and-starts',
    target: target(
      app(
        APP_A,
        release(R1, {
          services: [service(R1, 'api', { volumes: ['data'] })],
          volumes: [volume(APP_A, 'data')],
        }),
      ),
    ),
    current: { ...emptyCurrent(), images: [image(api1.image)] },
    expect: (p) => {
      const create = 'createContainer:aaaa:api:api_1031_1_c1';
      assert.ok(ancestors(p, create).has('createNetwork:aaaa_default'));
      assert.ok(ancestors(p, create).has('createVolume:1_data'));
      assert.deepEqual(step(p, 'startContainer:aaaa:api:api_1031_1_c1').dependsOn, [create]);
      assert.equal(stepsOf(p, 'takeLock').length, 0, 'nothing runs yet, so no lock is needed');
    },
  },
  {
    name: 'download-then-kill-pulls-while-old-runs',
    target: target(
      app(
        APP_A,
        release(R2, {
          services: [
            service(R2, 'api'),
            service(R2, 'worker', { image: worker1.image, imageId: worker1.imageId }),
          ],
        }),
      ),
    ),
    current: running1,
    expect: (p) => {
      assert.deepEqual(ids(p), ['pullImage:registry.test/api:c2']);
      assert.deepEqual(p.blockers, [
        { kind: 'waitingForAllImages', appUuid: 'aaaa', serviceName: 'worker' },
      ]);
    },
  },
  {
    name: 'download-then-kill-waits-for-all-app-images',
    target: target(
      app(APP_A, release(R2, { services: [service(R2, 'api'), service(R2, 'worker')] })),
    ),
    current: withImages('registry.test/api:c2'),
    expect: (p) => {
      assert.deepEqual(ids(p), ['pullImage:registry.test/worker:c2']);
      assert.equal(
        stepsOf(p, 'stopContainer').length,
        0,
        'api is not killed before worker image is here',
      );
      assert.ok(
        p.blockers.some((b) => b.kind === 'waitingForAllImages' && b.serviceName === 'api'),
      );
    },
  },
  {
    name: 'download-then-kill-replaces-when-images-ready',
    target: target(
      app(
        APP_A,
        release(R2, {
          services: [service(R2, 'api', { configHash: 'cfg2' }), service(R2, 'worker')],
        }),
      ),
    ),
    current: withImages('registry.test/api:c2', 'registry.test/worker:c2'),
    expect: (p) => {
      const start = 'startContainer:aaaa:api:api_1032_2_c2';
      const before = ancestors(p, start);
      for (const id of [
        'takeLock:1',
        'stopContainer:aaaa:api:id-api_1031_1_c1',
        'removeContainer:aaaa:api:id-api_1031_1_c1',
        'createContainer:aaaa:api:api_1032_2_c2',
      ]) {
        assert.ok(before.has(id), `${start} runs after ${id}`);
      }
      assert.deepEqual(stepsOf(p, 'takeLock')[0]?.services, ['api', 'worker']);
      assert.equal(p.blockers.length, 0);
    },
  },
  {
    name: 'kill-then-download-kills-first',
    target: target(
      app(
        APP_A,
        release(R2, {
          services: [service(R2, 'api', { updateStrategy: 'kill-then-download' }), { ...worker1 }],
        }),
      ),
    ),
    current: running1,
    expect: (p) => {
      assert.ok(
        ancestors(p, 'pullImage:registry.test/api:c2').has(
          'removeContainer:aaaa:api:id-api_1031_1_c1',
        ),
      );
      assert.equal(stepsOf(p, 'createContainer').length, 0);
    },
  },
  {
    name: 'delete-then-download-removes-old-image-before-pull',
    target: target(
      app(
        APP_A,
        release(R2, {
          services: [
            service(R2, 'api', { updateStrategy: 'delete-then-download' }),
            { ...worker1 },
          ],
        }),
      ),
    ),
    current: running1,
    ctx: { pulledImages: [imageIdOf(api1.image)] },
    expect: (p) => {
      const removeImage = `removeImage:${imageIdOf(api1.image)}`;
      assert.ok(ancestors(p, removeImage).has('removeContainer:aaaa:api:id-api_1031_1_c1'));
      assert.ok(ancestors(p, 'pullImage:registry.test/api:c2').has(removeImage));
    },
  },
  {
    name: 'delete-then-download-keeps-images-it-did-not-pull',
    target: target(
      app(
        APP_A,
        release(R2, {
          services: [
            service(R2, 'api', { updateStrategy: 'delete-then-download' }),
            { ...worker1 },
          ],
        }),
      ),
    ),
    current: running1,
    expect: (p) => {
      assert.equal(stepsOf(p, 'removeImage').length, 0);
      assert.ok(ids(p).includes('pullImage:registry.test/api:c2'));
    },
  },
  {
    name: 'hand-over-starts-new-while-old-runs',
    target: target(
      app(
        APP_A,
        release(R2, {
          services: [service(R2, 'api', { updateStrategy: 'hand-over' }), { ...worker1 }],
        }),
      ),
    ),
    current: withImages('registry.test/api:c2'),
    expect: (p) => {
      assert.equal(stepsOf(p, 'stopContainer').length, 0, 'the old container keeps running');
      const retire = 'retireContainer:aaaa:api:id-api_1031_1_c1';
      assert.equal(stepsOf(p, 'retireContainer')[0]?.newName, 'old_api_1031_1_c1');
      assert.ok(ancestors(p, 'startContainer:aaaa:api:api_1032_2_c2').has(retire));
      assert.ok(ancestors(p, retire).has('takeLock:1'));
    },
  },
  ...(() => {
    const api2 = service(R2, 'api', { updateStrategy: 'hand-over', handoverTimeoutMs: 5000 });
    const rel2 = release(R2, { services: [api2, { ...worker1 }] });
    const handingOver = {
      ...withImages(api2.image),
      containers: [
        ...running1.containers.filter((c) => c.serviceName !== 'api'),
        containerFor(APP_A, api1, {
          name: 'old_api_1031_1_c1',
          handoverOld: true,
          restartPolicy: 'no',
        }),
        containerFor(APP_A, api2, { startedAt: iso(NOW - 1000), createdAt: iso(NOW - 1000) }),
      ],
      locks: [{ appId: 1, serviceName: 'api', heldBy: 'agent' as const }],
    };
    return [
      {
        name: 'hand-over-waits-for-timeout',
        target: target(app(APP_A, rel2)),
        current: handingOver,
        expect: (p) => {
          assert.deepEqual(p.steps, []);
          assert.deepEqual(p.blockers, [
            { kind: 'handoverPending', appUuid: 'aaaa', serviceName: 'api', until: NOW + 4000 },
          ]);
        },
      },
      {
        name: 'hand-over-kills-old-on-complete-signal',
        target: target(app(APP_A, rel2)),
        current: { ...handingOver, handoverComplete: ['1/api'] },
        expect: (p) => {
          assert.deepEqual(ids(p), [
            'stopContainer:aaaa:api:id-api_1031_1_c1',
            'removeContainer:aaaa:api:id-api_1031_1_c1',
          ]);
        },
      },
      {
        name: 'hand-over-kills-old-after-timeout',
        target: target(app(APP_A, rel2)),
        current: handingOver,
        ctx: { now: NOW + 4000 },
        expect: (p) => {
          assert.ok(ids(p).includes('removeContainer:aaaa:api:id-api_1031_1_c1'));
          assert.equal(p.blockers.length, 0);
        },
      },
    ] satisfies Scenario[];
  })(),
  {
    name: 'commit-only-change-renames',
    target: target(
      app(
        APP_A,
        release(R2, {
          services: [
            service(R2, 'api', { image: api1.image, imageId: api1.imageId }),
            service(R2, 'worker', { image: worker1.image, imageId: worker1.imageId }),
          ],
        }),
      ),
    ),
    current: running1,
    expect: (p) => {
      assert.deepEqual(kinds(p), ['takeLock', 'renameContainer', 'renameContainer']);
      assert.equal(stepsOf(p, 'renameContainer')[0]?.newName, 'api_1031_2_c2');
    },
  },
  {
    name: 'commit-only-rename-waits-for-all-images',
    target: target(
      app(
        APP_A,
        release(R2, {
          services: [
            service(R2, 'api', { image: api1.image, imageId: api1.imageId }),
            service(R2, 'worker'),
          ],
        }),
      ),
    ),
    current: running1,
    expect: (p) => {
      assert.deepEqual(ids(p), ['pullImage:registry.test/worker:c2']);
      assert.ok(
        p.blockers.some((b) => b.kind === 'waitingForAllImages' && b.serviceName === 'api'),
      );
    },
  },
  {
    name: 'commit-only-rename-kill-then-download-does-not-wait',
    target: target(
      app(
        APP_A,
        release(R2, {
          services: [
            service(R2, 'api', {
              image: api1.image,
              imageId: api1.imageId,
              updateStrategy: 'kill-then-download',
            }),
            service(R2, 'worker'),
          ],
        }),
      ),
    ),
    current: running1,
    expect: (p) => {
      assert.ok(ids(p).includes('renameContainer:aaaa:api:id-api_1031_1_c1'));
    },
  },
  {
    name: 'running-false-creates-without-starting',
    target: target(app(APP_A, release(R1, { services: [service(R1, 'api', { running: false })] }))),
    current: { ...emptyCurrent(), images: [image(api1.image)] },
    expect: (p) => {
      assert.ok(ids(p).includes('createContainer:aaaa:api:api_1031_1_c1'));
      assert.equal(stepsOf(p, 'startContainer').length, 0);
    },
  },
  {
    name: 'running-false-stops-and-keeps-container',
    target: target(
      app(APP_A, release(R1, { services: [service(R1, 'api', { running: false }), worker1] })),
    ),
    current: running1,
    expect: (p) => {
      assert.deepEqual(ids(p), ['takeLock:1', 'stopContainer:aaaa:api:id-api_1031_1_c1']);
    },
  },
  {
    name: 'created-container-is-started',
    target: target(app(APP_A, release(R1, { services: [api1, worker1] }))),
    current: {
      ...running1,
      containers: running1.containers.map((c) =>
        c.serviceName === 'api' ? { ...c, status: 'created' as const, startedAt: undefined } : c,
      ),
    },
    expect: (p) => assert.deepEqual(ids(p), ['startContainer:aaaa:api:api_1031_1_c1']),
  },
  {
    name: 'exited-container-is-left-to-its-restart-policy',
    target: target(
      app(
        APP_A,
        release(R1, { services: [service(R1, 'api', { restart: 'on-failure' }), worker1] }),
      ),
    ),
    current: {
      ...running1,
      containers: running1.containers.map((c) =>
        c.serviceName === 'api'
          ? { ...c, status: 'exited' as const, exitCode: 0, restartPolicy: 'on-failure' }
          : c,
      ),
    },
    expect: (p) => assert.equal(renderPlan(p), '(converged)\n'),
  },
  {
    name: 'dead-container-removed-and-recreated',
    target: target(app(APP_A, release(R1, { services: [api1, worker1] }))),
    current: {
      ...running1,
      containers: running1.containers.map((c) =>
        c.serviceName === 'api' ? { ...c, status: 'dead' as const } : c,
      ),
    },
    expect: (p) => {
      assert.deepEqual(kinds(p), ['removeContainer', 'createContainer', 'startContainer']);
      assert.equal(stepsOf(p, 'takeLock').length, 0, 'a dead container needs no lock');
    },
  },
  {
    name: 'duplicate-containers-keep-newest',
    target: target(app(APP_A, release(R1, { services: [api1, worker1] }))),
    current: {
      ...running1,
      containers: [
        ...running1.containers,
        containerFor(APP_A, api1, { id: 'older', name: 'api_stray', createdAt: iso(10) }),
      ],
    },
    expect: (p) => {
      assert.deepEqual(ids(p), [
        'takeLock:1',
        'stopContainer:aaaa:api:older',
        'removeContainer:aaaa:api:older',
      ]);
    },
  },
  {
    name: 'service-removed-from-release',
    target: target(app(APP_A, release(R1, { services: [api1] }))),
    current: running1,
    expect: (p) => {
      assert.deepEqual(ids(p), [
        'takeLock:1',
        'stopContainer:aaaa:worker:id-worker_1061_1_c1',
        'removeContainer:aaaa:worker:id-worker_1061_1_c1',
      ]);
    },
  },
  {
    name: 'depends-on-started-chains-in-one-round',
    target: target(
      app(
        APP_A,
        release(R1, {
          services: [
            service(R1, 'db'),
            service(R1, 'api', { dependsOn: { db: 'service_started' } }),
          ],
        }),
      ),
    ),
    current: { ...emptyCurrent(), images: [image('registry.test/db:c1'), image(api1.image)] },
    expect: (p) => {
      assert.ok(
        ancestors(p, 'startContainer:aaaa:api:api_1031_1_c1').has(
          'startContainer:aaaa:db:db_1021_1_c1',
        ),
      );
    },
  },
  {
    name: 'depends-on-healthy-waits',
    target: target(
      app(
        APP_A,
        release(R1, {
          services: [
            service(R1, 'db', { healthcheck: true }),
            service(R1, 'api', { dependsOn: { db: 'service_healthy' } }),
          ],
        }),
      ),
    ),
    current: { ...emptyCurrent(), images: [image('registry.test/db:c1'), image(api1.image)] },
    expect: (p) => {
      assert.ok(
        ids(p).includes('createContainer:aaaa:api:api_1031_1_c1'),
        'created now, started later',
      );
      assert.ok(!ids(p).includes('startContainer:aaaa:api:api_1031_1_c1'));
      assert.deepEqual(p.blockers, [
        {
          kind: 'dependencyNotReady',
          appUuid: 'aaaa',
          serviceName: 'api',
          dependency: 'db',
          condition: 'service_healthy',
        },
      ]);
    },
  },
  ...(() => {
    const db = service(R1, 'db', { healthcheck: true });
    const migrate = service(R1, 'migrate', { labels: { 'test.oneshot': 'true' }, restart: 'no' });
    const api = service(R1, 'api', {
      dependsOn: { db: 'service_healthy', migrate: 'service_completed_successfully' },
    });
    const t = target(app(APP_A, release(R1, { services: [db, migrate, api] })));
    const base = materialise(t);
    const apiCreated = base.containers.map((c) =>
      c.serviceName === 'api' ? { ...c, status: 'created' as const, startedAt: undefined } : c,
    );
    return [
      {
        name: 'depends-on-healthy-and-completed-start',
        target: t,
        current: { ...base, containers: apiCreated },
        expect: (p) => assert.deepEqual(ids(p), ['startContainer:aaaa:api:api_1031_1_c1']),
      },
      {
        name: 'depends-on-completed-waits-for-exit-0',
        target: t,
        current: {
          ...base,
          containers: apiCreated.map((c) =>
            c.serviceName === 'migrate' ? { ...c, exitCode: 1 } : c,
          ),
        },
        expect: (p) => {
          assert.deepEqual(p.steps, []);
          assert.equal(p.blockers[0]?.kind, 'dependencyNotReady');
        },
      },
    ] satisfies Scenario[];
  })(),
  {
    name: 'image-downloading-blocks',
    target: target(app(APP_A, release(R2, { services: [service(R2, 'api'), { ...worker1 }] }))),
    current: { ...running1, downloads: [{ image: 'registry.test/api:c2', progress: 42 }] },
    expect: (p) => {
      assert.deepEqual(p.steps, []);
      assert.ok(p.blockers.some((b) => b.kind === 'imageDownloading' && b.progress === 42));
    },
  },
  {
    name: 'requires-reboot-waits-for-reboot',
    target: target(
      app(APP_A, release(R1, { services: [service(R1, 'api', { requiresReboot: true })] })),
    ),
    current: { ...emptyCurrent(), images: [image(api1.image)] },
    ctx: { bootTime: NOW - 60_000 },
    expect: (p) => {
      assert.ok(ids(p).includes('createContainer:aaaa:api:api_1031_1_c1'));
      assert.equal(stepsOf(p, 'startContainer').length, 0);
      assert.ok(p.blockers.some((b) => b.kind === 'rebootRequired'));
    },
  },
  {
    name: 'host-networking-joins-no-app-network',
    target: target(
      app(APP_A, release(R1, { services: [service(R1, 'api', { networkMode: 'host' })] })),
    ),
    current: { ...emptyCurrent(), images: [image(api1.image)] },
    expect: (p) => {
      assert.deepEqual(step(p, 'createContainer:aaaa:api:api_1031_1_c1').dependsOn, []);
    },
  },
];

describe('planner scenarios: release updates (golden)', () => {
  for (const s of scenarios) {
    it(s.name, () => {
      const p = run(s);
      s.expect(p);
      expectGolden(s.name, renderPlan(p));
      assert.equal(renderPlan(run(s)), renderPlan(p), 'planning twice gives the same plan');
    });
  }
});
