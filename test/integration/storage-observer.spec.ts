/**
 * The disk preflight's measurements against the real engine (read only: lists and inspects) and the
 * real local registry: what a missing image needs (its layers the engine has count as free), the data
 * root's free space, and the quiet failures (no preflight and one warning; an unreadable manifest is
 * not counted and not asked for again every round).
 */
import assert from 'node:assert/strict';
import { statfs } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { DockerEngine } from '../../src/engine/docker-engine.js';
import { DISK_BYTES_PER_COMPRESSED_BYTE } from '../../src/reconciler/storage-estimate.js';
import { StorageObserver } from '../../src/reconciler/storage-observer.js';
import { systemClock } from '../../src/shared/clock.js';
import { createLogger } from '../../src/shared/logger.js';
import { DOCKER_SOCKET, requireDocker } from '../support/docker.js';
import { TEST_IMAGES } from '../support/images.js';
import { emptyCurrent, image } from '../support/planner-builders.js';
import { OPEN_REGISTRY, requireRegistries } from '../support/registry.js';
import { labelled } from '../unit/reconciler/support/targets.js';
import { app, release } from '../support/planner-builders.js';
import type { CurrentState, TargetState } from '../../src/domain/model.js';

const RESERVE = 123_456_789;

function targetOf(...images: string[]): TargetState {
  const identity = { uuid: 'st0re', appId: 4242 };
  const rel = { app: identity, commit: 'c1', releaseId: 1 };
  const services = images.map((img, i) => labelled(rel, `s${i}`, { image: img }));
  return {
    name: 'd',
    config: {},
    apps: { [identity.uuid]: app(identity, release(rel, { services })) },
  };
}

describe('disk preflight measurements (real engine, real registry)', function () {
  this.timeout(60_000);
  let engine: DockerEngine;
  let current: CurrentState;
  const warnings: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: 'warn',
    destination: new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString().split('\n').filter(Boolean))
          warnings.push(JSON.parse(line) as Record<string, unknown>);
        cb();
      },
    }),
  });
  let fetches = 0;
  const countingFetch: typeof fetch = (input, init) => {
    fetches++;
    return fetch(input, init);
  };
  const observer = (dataRootPath?: string): StorageObserver =>
    new StorageObserver({
      engine,
      authFor: () => undefined,
      clock: systemClock,
      logger,
      reserveBytes: () => RESERVE,
      dataRootPath,
      fetch: countingFetch,
    });

  before(async () => {
    await requireDocker();
    await requireRegistries();
    engine = new DockerEngine({ socketPath: DOCKER_SOCKET, logger, clock: systemClock });
    const images = await engine.listImages();
    current = { ...emptyCurrent(), images: images.map((i) => ({ ...image(''), ...i })) };
    assert.ok(
      images.some((i) => i.repoTags.includes(TEST_IMAGES.busybox)),
      'busybox:1 is kept in the engine',
    );
    assert.ok(
      !images.some((i) => i.repoTags.includes(TEST_IMAGES.large)),
      'large:1 is never kept in the engine',
    );
  });
  beforeEach(() => {
    warnings.length = 0;
  });
  after(() => engine.close());

  it('measures what the missing image needs (its busybox layer is already there) and the free space', async () => {
    const o = observer();
    const facts = await o.facts(targetOf(TEST_IMAGES.busybox, TEST_IMAGES.large), current);
    assert.ok(facts !== undefined);
    assert.deepEqual(Object.keys(facts.needBytes), [TEST_IMAGES.large]);
    const need = facts.needBytes[TEST_IMAGES.large] ?? 0;
    const MiB = 2 ** 20;
    // Three random 12 MiB layers (gzip adds a little), counted K times; the busybox layer is free.
    assert.ok(need >= 36 * MiB * DISK_BYTES_PER_COMPRESSED_BYTE, String(need));
    assert.ok(need < 37 * MiB * DISK_BYTES_PER_COMPRESSED_BYTE, String(need));
    assert.equal(facts.reserveBytes, RESERVE);
    const root = await engine.storageInfo();
    const fs = await statfs(root.dataRoot);
    assert.ok(
      Math.abs(facts.freeBytes - fs.bavail * fs.bsize) < 512 * MiB,
      'statfs of DockerRootDir',
    );
    assert.deepEqual(warnings, []);
    // Cached: the next round asks the registry nothing.
    const before = fetches;
    await o.facts(targetOf(TEST_IMAGES.large), current);
    assert.equal(fetches, before);
  });

  it('measures nothing when no target image is missing', async () => {
    const requests = engine.requestCount();
    assert.equal(await observer().facts(targetOf(TEST_IMAGES.busybox), current), undefined);
    assert.equal(engine.requestCount(), requests);
  });

  it('no preflight and one warning while the free space cannot be read', async () => {
    const o = observer('/nonexistent/bosun-engine-root');
    assert.equal(await o.facts(targetOf(TEST_IMAGES.large), current), undefined);
    assert.equal(await o.facts(targetOf(TEST_IMAGES.large), current), undefined);
    assert.deepEqual(
      warnings.map((w) => [w['event'], w['path']]),
      [['storage.free-space-unknown', '/nonexistent/bosun-engine-root']],
    );
  });

  it('an image whose manifest cannot be read is not counted, with one warning, and not asked for every round', async () => {
    const o = observer();
    const missing = `${OPEN_REGISTRY}/bosun-test/no-such-image:1`;
    const first = await o.facts(targetOf(missing, TEST_IMAGES.large), current);
    assert.deepEqual(Object.keys(first?.needBytes ?? {}), [TEST_IMAGES.large]);
    const before = fetches;
    const second = await o.facts(targetOf(missing, TEST_IMAGES.large), current);
    assert.deepEqual(Object.keys(second?.needBytes ?? {}), [TEST_IMAGES.large]);
    assert.equal(fetches, before, 'the failure is remembered for a while');
    assert.deepEqual(
      warnings.map((w) => [w['event'], w['image']]),
      [['storage.manifest-unavailable', missing]],
    );
  });
});
