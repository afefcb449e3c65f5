/**
 * Locks, several apps, app removal, networks and volumes, image clean-up and backoff: one round each,
 * against golden plans (UPDATE_GOLDEN=1 regenerates), plus the behaviour each scenario is about.
 */
import assert from 'node:assert/strict';
import { renderPlan } from '../../../src/planner/render.js';
import {
  APP_A,
  APP_B,
  app,
  image,
  imageIdOf,
  materialise,
  network,
  networkState,
  release,
  service,
  target,
  volume,
} from '../../support/planner-builders.js';
import {
  B1,
  B2,
  NOW,
  R1,
  R2,
  type Scenario,
  ancestors,
  ids,
  kinds,
  run,
  stepsOf,
} from '../../support/planner-fixtures.js';
import { expectGolden } from '../../support/planner-golden.js';

const api1 = service(R1, 'api', { volumes: ['data'] });
const worker1 = service(R1, 'worker');
const relA1 = release(R1, { services: [api1, worker1], volumes: [volume(APP_A, 'data')] });
const web1 = service(B1, 'web');
const relB1 = release(B1, { services: [web1] });
const both1 = materialise(target(app(APP_A, relA1), app(APP_B, relB1)));
const relA2 = release(R2, {
  services: [
    service(R2, 'api', { volumes: ['data'] }),
    service(R2, 'worker', { image: worker1.image, imageId: worker1.imageId }),
  ],
  volumes: [volume(APP_A, 'data')],
});
const relB2 = release(B2, { services: [service(B2, 'web')] });
const withImages = (...refs: string[]) => ({
  ...both1,
  images: [...both1.images, ...refs.map(image)],
});
const userLock = (serviceName: string) => ({ appId: 1, serviceName, heldBy: 'user' as const });

const scenarios: Scenario[] = [
  {
    // A user lock holds back the whole app (balena semantics): worker is not renamed either.
    name: 'user-lock-blocks-the-locked-app',
    target: target(app(APP_A, relA2), app(APP_B, relB1)),
    current: { ...withImages('registry.test/api:c2'), locks: [userLock('api')] },
    expect: (p) => {
      assert.equal(stepsOf(p, 'stopContainer').length, 0);
      assert.ok(p.blockers.some((b) => b.kind === 'locked' && b.serviceName === 'api'));
      assert.ok(
        !ids(p).includes('renameContainer:aaaa:worker:id-worker_1061_1_c1'),
        'worker belongs to the locked app and waits too',
      );
      assert.ok(
        p.steps.every((step) => step.appUuid !== APP_A.uuid || step.kind === 'pullImage'),
        'only lock-free work (pulls) goes on in the locked app',
      );
    },
  },
  {
    name: 'force-overrides-user-lock',
    target: target(app(APP_A, relA2), app(APP_B, relB1)),
    current: { ...withImages('registry.test/api:c2'), locks: [userLock('api')] },
    ctx: { force: true },
    expect: (p) => {
      assert.deepEqual(stepsOf(p, 'takeLock')[0]?.force, true);
      assert.ok(ancestors(p, 'stopContainer:aaaa:api:id-api_1031_1_c1').has('takeLock:1'));
      assert.equal(p.blockers.length, 0);
    },
  },
  {
    name: 'lock-override-config-overrides-user-lock',
    target: target(app(APP_A, relA2), app(APP_B, relB1)),
    current: { ...withImages('registry.test/api:c2'), locks: [userLock('api')] },
    ctx: { lockOverride: true },
    expect: (p) => assert.equal(stepsOf(p, 'takeLock')[0]?.force, true),
  },
  {
    name: 'settled-app-records-commit-and-releases-lock',
    target: target(app(APP_A, relA1), app(APP_B, relB1)),
    current: {
      ...both1,
      commits: { bbbb: 'b1' },
      locks: [{ appId: 1, serviceName: 'api', heldBy: 'agent' }],
    },
    expect: (p) => assert.deepEqual(ids(p), ['recordCommit:aaaa:c1', 'releaseLock:1']),
  },
  {
    name: 'leftover-lock-of-vanished-app-released',
    target: target(app(APP_A, relA1), app(APP_B, relB1)),
    current: { ...both1, locks: [{ appId: 9, serviceName: 'x', heldBy: 'agent' }] },
    expect: (p) => assert.deepEqual(ids(p), ['releaseLock:9']),
  },
  {
    name: 'apps-update-independently',
    target: target(app(APP_A, relA2), app(APP_B, relB2)),
    current: withImages('registry.test/web:b2'),
    ctx: {
      failedPulls: [
        { image: 'registry.test/api:c2', until: NOW + 5000, error: 'manifest unknown' },
      ],
    },
    expect: (p) => {
      assert.ok(ids(p).includes('startContainer:bbbb:web:web_2042_12_b2'), 'app B updates');
      assert.ok(
        p.steps.every((s) => s.appUuid === 'bbbb'),
        'app A only waits',
      );
      assert.ok(
        p.blockers.some(
          (b) => b.kind === 'backoff' && b.stepId === 'pullImage:registry.test/api:c2',
        ),
      );
    },
  },
  {
    name: 'backoff-on-one-service-only',
    target: target(app(APP_A, relA1), app(APP_B, relB1)),
    current: {
      ...both1,
      containers: both1.containers.map((c) => ({
        ...c,
        status: 'created' as const,
        startedAt: undefined,
      })),
    },
    ctx: { backoffs: [{ key: 'aaaa/api', until: NOW + 1000, error: 'exec format error' }] },
    expect: (p) => {
      assert.deepEqual(ids(p), [
        'startContainer:aaaa:worker:worker_1061_1_c1',
        'startContainer:bbbb:web:web_2041_11_b1',
      ]);
      assert.equal(p.blockers[0]?.kind, 'backoff');
    },
  },
  {
    name: 'expired-backoff-is-ignored',
    target: target(app(APP_A, relA1), app(APP_B, relB1)),
    current: {
      ...both1,
      containers: both1.containers.map((c) =>
        c.serviceName === 'api' ? { ...c, status: 'created' as const, startedAt: undefined } : c,
      ),
    },
    ctx: { backoffs: [{ key: 'aaaa/api', until: NOW, error: 'old failure' }] },
    expect: (p) => assert.deepEqual(ids(p), ['startContainer:aaaa:api:api_1031_1_c1']),
  },
  {
    name: 'app-removal',
    target: target(app(APP_B, relB1)),
    current: both1,
    expect: (p) => {
      const removeNetwork = 'removeNetwork:aaaa_default';
      assert.ok(ancestors(p, removeNetwork).has('removeContainer:aaaa:api:id-api_1031_1_c1'));
      assert.ok(ancestors(p, removeNetwork).has('removeContainer:aaaa:worker:id-worker_1061_1_c1'));
      assert.ok(
        ancestors(p, 'removeVolume:1_data').has('removeContainer:aaaa:api:id-api_1031_1_c1'),
      );
      assert.ok(ancestors(p, 'stopContainer:aaaa:api:id-api_1031_1_c1').has('takeLock:1'));
    },
  },
  {
    name: 'app-removal-keeps-volumes-in-local-mode',
    target: target(app(APP_B, relB1)),
    current: both1,
    ctx: { keepVolumes: true },
    expect: (p) => assert.equal(stepsOf(p, 'removeVolume').length, 0),
  },
  {
    name: 'app-without-release-removes-services-keeps-volumes',
    target: target(app(APP_A, undefined), app(APP_B, relB1)),
    current: both1,
    expect: (p) => {
      assert.equal(stepsOf(p, 'removeVolume').length, 0);
      assert.ok(ids(p).includes('removeNetwork:aaaa_default'));
    },
  },
  {
    name: 'volume-leaving-target-survives',
    target: target(
      app(
        APP_A,
        release(R1, { services: [service(R1, 'api', { configHash: 'cfg-novol' }), worker1] }),
      ),
      app(APP_B, relB1),
    ),
    current: both1,
    expect: (p) => {
      assert.equal(stepsOf(p, 'removeVolume').length, 0);
      assert.ok(
        ids(p).includes('removeContainer:aaaa:api:id-api_1031_1_c1'),
        'api changed: it no longer mounts the volume',
      );
    },
  },
  {
    name: 'network-config-change-recreates-network-and-containers',
    target: target(
      app(
        APP_A,
        release(R1, {
          services: [api1, worker1],
          volumes: [volume(APP_A, 'data')],
          networks: [network(APP_A, 'default', 'net2')],
        }),
      ),
      app(APP_B, relB1),
    ),
    current: both1,
    expect: (p) => {
      const remove = 'removeNetwork:aaaa_default';
      const create = 'createNetwork:aaaa_default';
      for (const c of ['api:id-api_1031_1_c1', 'worker:id-worker_1061_1_c1']) {
        assert.ok(ancestors(p, remove).has(`removeContainer:aaaa:${c}`));
      }
      assert.ok(ancestors(p, create).has(remove));
      assert.ok(ancestors(p, 'startContainer:aaaa:api:api_1031_1_c1').has(create));
    },
  },
  {
    name: 'network-leaving-target-removed-after-its-containers',
    target: target(
      app(
        APP_A,
        release(R1, {
          services: [api1, service(R1, 'worker', { networks: ['default'] })],
          volumes: [volume(APP_A, 'data')],
        }),
      ),
      app(APP_B, relB1),
    ),
    current: {
      ...both1,
      networks: [...both1.networks, networkState(APP_A, network(APP_A, 'backend'))],
      containers: both1.containers.map((c) =>
        c.serviceName === 'worker' ? { ...c, networks: [...c.networks, 'aaaa_backend'] } : c,
      ),
    },
    expect: (p) => {
      assert.ok(
        ancestors(p, 'removeNetwork:aaaa_backend').has(
          'removeContainer:aaaa:worker:id-worker_1061_1_c1',
        ),
      );
      assert.ok(
        !ids(p).includes('removeContainer:aaaa:api:id-api_1031_1_c1'),
        'api is not on that network',
      );
    },
  },
  {
    name: 'image-cleanup-after-update',
    target: target(app(APP_A, relA1), app(APP_B, relB1)),
    current: {
      ...both1,
      images: [...both1.images, image('registry.test/api:c0'), image('someone/else:1')],
    },
    ctx: { pulledImages: [imageIdOf('registry.test/api:c0'), imageIdOf(api1.image)] },
    expect: (p) => assert.deepEqual(ids(p), [`removeImage:${imageIdOf('registry.test/api:c0')}`]),
  },
  {
    name: 'image-cleanup-waits-while-updating',
    target: target(app(APP_A, relA2), app(APP_B, relB1)),
    current: { ...both1, images: [...both1.images, image('registry.test/api:c0')] },
    ctx: { pulledImages: [imageIdOf('registry.test/api:c0')] },
    expect: (p) => assert.equal(stepsOf(p, 'removeImage').length, 0),
  },
  {
    name: 'image-cleanup-off-in-local-mode',
    target: target(app(APP_A, relA1), app(APP_B, relB1)),
    current: { ...both1, images: [...both1.images, image('registry.test/api:c0')] },
    ctx: { pulledImages: [imageIdOf('registry.test/api:c0')], keepImages: true },
    expect: (p) => assert.equal(renderPlan(p), '(converged)\n'),
  },
  {
    name: 'image-found-by-digest-or-known-id',
    target: target(
      app(
        APP_A,
        release(R1, {
          services: [
            service(R1, 'api', { image: 'registry.test/api@sha256:abc', volumes: ['data'] }),
            worker1,
          ],
          volumes: [volume(APP_A, 'data')],
        }),
      ),
      app(APP_B, relB1),
    ),
    current: {
      ...both1,
      images: [
        ...both1.images,
        {
          id: 'sha256:engine-api',
          repoTags: [],
          repoDigests: ['other.mirror/api@sha256:abc'],
          labels: {},
          createdAt: '',
        },
      ],
    },
    expect: (p) => {
      assert.equal(stepsOf(p, 'pullImage').length, 0, 'the digest is already on the engine');
      assert.deepEqual(
        kinds(p).filter((k) => k === 'createContainer'),
        ['createContainer'],
      );
    },
  },
];

describe('planner scenarios: locks, apps, resources, images (golden)', () => {
  for (const s of scenarios) {
    it(s.name, () => {
      const p = run(s);
      s.expect(p);
      expectGolden(s.name, renderPlan(p));
    });
  }
});
