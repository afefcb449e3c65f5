/**
 * Disk preflight in the planner: downloads are held against the free space minus the reserve; what the
 * strategy allows is removed first; otherwise the app is blocked whole with `insufficientStorage` while
 * other apps go on.
 */
import assert from 'node:assert/strict';
import type { StorageFacts } from '../../../src/planner/context.js';
import type { Blocker, Plan } from '../../../src/planner/steps.js';
import {
  APP_A,
  APP_B,
  app,
  image,
  imageIdOf,
  materialise,
  release,
  service,
  target,
} from '../../support/planner-builders.js';
import { B1, R1, R2, ancestors, ids, run, stepsOf } from '../../support/planner-fixtures.js';

const MB = 1_000_000;
const api1 = service(R1, 'api');
const api2 = service(R2, 'api');
const api2Kill = service(R2, 'api', { updateStrategy: 'kill-then-download' });
const api2Delete = service(R2, 'api', { updateStrategy: 'delete-then-download' });
const web1 = service(B1, 'web');
const running = materialise(target(app(APP_A, release(R1, { services: [api1] }))));
const R2_IMAGE = api2.image;
const R1_IMAGE_ID = imageIdOf(api1.image);

function storage(o: Partial<StorageFacts>): StorageFacts {
  return { freeBytes: 1000 * MB, reserveBytes: 100 * MB, needBytes: {}, freedBytes: {}, ...o };
}

function storageBlockers(p: Plan): Extract<Blocker, { kind: 'insufficientStorage' }>[] {
  return p.blockers.filter(
    (b): b is Extract<Blocker, { kind: 'insufficientStorage' }> => b.kind === 'insufficientStorage',
  );
}

function stepsOfApp(p: Plan, uuid: string): string[] {
  return p.steps.filter((s) => s.appUuid === uuid).map((s) => s.id);
}

describe('planner: disk preflight', () => {
  it('plans the download when it fits with the reserve kept free', () => {
    const p = run({
      target: target(app(APP_A, release(R2, { services: [api2] }))),
      current: running,
      ctx: { storage: storage({ freeBytes: 400 * MB, needBytes: { [R2_IMAGE]: 300 * MB } }) },
    });
    assert.deepEqual(storageBlockers(p), []);
    assert.ok(ids(p).includes(`pullImage:${R2_IMAGE}`));
  });

  it('blocks the app whole when its download does not fit, naming bytes needed, free and reserved', () => {
    const p = run({
      target: target(app(APP_A, release(R2, { services: [api2] }))),
      current: running,
      ctx: { storage: storage({ freeBytes: 399 * MB, needBytes: { [R2_IMAGE]: 300 * MB } }) },
    });
    assert.deepEqual(storageBlockers(p), [
      {
        kind: 'insufficientStorage',
        appUuid: APP_A.uuid,
        serviceName: 'api',
        image: R2_IMAGE,
        bytesNeeded: 300 * MB,
        bytesFree: 399 * MB,
        bytesReserved: 100 * MB,
      },
    ]);
    assert.deepEqual(stepsOfApp(p, APP_A.uuid), []);
  });

  it('with kill-then-download a release that cannot download does not stop the running service', () => {
    const t = target(app(APP_A, release(R2, { services: [api2Kill] })));
    const fits = run({ target: t, current: running, ctx: {} });
    assert.ok(stepsOf(fits, 'stopContainer').length > 0, 'without a preflight the old one stops');
    const p = run({
      target: t,
      current: running,
      ctx: { storage: storage({ freeBytes: 150 * MB, needBytes: { [api2Kill.image]: 60 * MB } }) },
    });
    assert.equal(storageBlockers(p).length, 1);
    assert.deepEqual(stepsOfApp(p, APP_A.uuid), []);
  });

  it('other apps go on: the first app (by uuid) that fits takes the room, the next one waits', () => {
    const b = service(B1, 'web', { image: 'registry.test/web:b1' });
    const t = target(
      app(APP_A, release(R2, { services: [api2] })),
      app(APP_B, release(B1, { services: [b] })),
    );
    const p = run({
      target: t,
      current: running,
      ctx: {
        storage: storage({
          freeBytes: 500 * MB,
          needBytes: { [R2_IMAGE]: 300 * MB, [b.image]: 200 * MB },
        }),
      },
    });
    assert.ok(ids(p).includes(`pullImage:${R2_IMAGE}`), 'app A downloads');
    assert.deepEqual(
      storageBlockers(p).map((x) => x.appUuid),
      [APP_B.uuid],
    );
    assert.deepEqual(stepsOfApp(p, APP_B.uuid), []);
    // A smaller app B fits next to A.
    const both = run({
      target: t,
      current: running,
      ctx: {
        storage: storage({
          freeBytes: 500 * MB,
          needBytes: { [R2_IMAGE]: 300 * MB, [b.image]: 100 * MB },
        }),
      },
    });
    assert.deepEqual(storageBlockers(both), []);
  });

  it('with delete-then-download the old image counts as freed and is removed before the download', () => {
    const p = run({
      target: target(app(APP_A, release(R2, { services: [api2Delete] }))),
      current: running,
      ctx: {
        pulledImages: [R1_IMAGE_ID],
        storage: storage({
          freeBytes: 200 * MB,
          needBytes: { [api2Delete.image]: 250 * MB },
          freedBytes: { [R1_IMAGE_ID]: 160 * MB },
        }),
      },
    });
    assert.deepEqual(storageBlockers(p), []);
    const pull = `pullImage:${api2Delete.image}`;
    assert.ok(ancestors(p, pull).has(`removeImage:${R1_IMAGE_ID}`), 'the old image goes first');
  });

  it('with delete-then-download, if even the freed image is not enough, the old release keeps running', () => {
    const p = run({
      target: target(app(APP_A, release(R2, { services: [api2Delete] }))),
      current: running,
      ctx: {
        pulledImages: [R1_IMAGE_ID],
        storage: storage({
          freeBytes: 200 * MB,
          needBytes: { [api2Delete.image]: 300 * MB },
          freedBytes: { [R1_IMAGE_ID]: 150 * MB },
        }),
      },
    });
    assert.equal(storageBlockers(p).length, 1);
    assert.deepEqual(stepsOfApp(p, APP_A.uuid), []);
  });

  it('removes images we pulled that nothing uses before the download, when that makes room', () => {
    const stale = image('registry.test/stale:1');
    const current = { ...running, images: [...running.images, stale] };
    const ctx = {
      pulledImages: [stale.id],
      storage: storage({
        freeBytes: 300 * MB,
        needBytes: { [R2_IMAGE]: 250 * MB },
        freedBytes: { [stale.id]: 100 * MB },
      }),
    };
    const t = target(app(APP_A, release(R2, { services: [api2] })));
    const p = run({ target: t, current, ctx });
    assert.deepEqual(storageBlockers(p), []);
    assert.ok(ancestors(p, `pullImage:${R2_IMAGE}`).has(`removeImage:${stale.id}`));
    // Local mode keeps every image: then the app waits instead.
    const kept = run({ target: t, current, ctx: { ...ctx, keepImages: true } });
    assert.equal(storageBlockers(kept).length, 1);
    assert.ok(!ids(kept).includes(`removeImage:${stale.id}`));
    // An image someone else put there is never removed.
    const foreign = run({ target: t, current, ctx: { ...ctx, pulledImages: [] } });
    assert.equal(storageBlockers(foreign).length, 1);
  });

  it('downloads in flight hold their estimate; images without an estimate are not counted', () => {
    const t = target(
      app(APP_A, release(R2, { services: [api2] })),
      app(APP_B, release(B1, { services: [web1] })),
    );
    const current = {
      ...running,
      downloads: [{ image: R2_IMAGE, progress: 10 }],
    };
    const p = run({
      target: t,
      current,
      ctx: {
        storage: storage({
          freeBytes: 500 * MB,
          needBytes: { [R2_IMAGE]: 300 * MB, [web1.image]: 150 * MB },
        }),
      },
    });
    assert.deepEqual(
      storageBlockers(p).map((b) => b.appUuid),
      [APP_B.uuid],
      '500 free - 100 reserved - 300 in flight leaves 100 for 150',
    );
    const unknown = run({
      target: t,
      current,
      ctx: { storage: storage({ freeBytes: 500 * MB, needBytes: { [R2_IMAGE]: 300 * MB } }) },
    });
    assert.deepEqual(storageBlockers(unknown), []);
    assert.ok(ids(unknown).includes(`pullImage:${web1.image}`));
  });

  it('without storage facts (free space unknown) there is no preflight', () => {
    const p = run({
      target: target(app(APP_A, release(R2, { services: [api2] }))),
      current: running,
      ctx: { storage: undefined },
    });
    assert.deepEqual(storageBlockers(p), []);
    assert.ok(ids(p).includes(`pullImage:${R2_IMAGE}`));
  });
});
