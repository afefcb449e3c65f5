/**
 * Leaving local mode on the FakeEngine (contract-tested against Docker) with a real SQLite store: only
 * what the local app owns goes (containers, networks, the images its services named); volumes, other
 * apps, the user's own containers and the cloud target stay. A failed removal keeps the local target
 * so the next start finishes the job.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerCreateSpec } from '../../src/domain/container-spec.js';
import { FakeEngine } from '../support/fake-engine/fake-engine.js';
import { leaveLocalMode } from '../../src/reconciler/local-mode-exit.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { openStore } from '../../src/store/open-store.js';
import type { JsonObject, Store, TargetOrigin } from '../../src/store/ports.js';

const LOCAL: TargetOrigin = { kind: 'local' };
const CLOUD: TargetOrigin = { kind: 'cloud', endpoint: 'https://api.example' };

function container(
  name: string,
  image: string,
  labels: Record<string, string>,
): ContainerCreateSpec {
  return {
    name,
    Image: image,
    Env: [],
    Tty: false,
    Labels: labels,
    HostConfig: { NetworkMode: 'none', RestartPolicy: { Name: 'no' } },
  };
}

const supervised = (app: string, service: string): Record<string, string> => ({
  'io.balena.supervised': 'true',
  'io.balena.app-uuid': app,
  'io.balena.service-name': service,
});

function rawApp(services: Record<string, string>): JsonObject {
  return {
    id: 1,
    name: 'localapp',
    class: 'fleet',
    releases: {
      '10ca12e1ea5e': {
        id: 1,
        services: Object.fromEntries(
          Object.entries(services).map(([name, image]) => [name, { id: 1, image_id: 1, image }]),
        ),
      },
    },
  };
}

describe('leaving local mode (FakeEngine, real SQLite store)', () => {
  let dir: string;
  let store: Store;
  let engine: FakeEngine;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bosun-local-exit-'));
    store = await openStore({ path: join(dir, 'db.sqlite'), logger: silentLogger() });
    engine = new FakeEngine({ clock: systemClock });
    for (const image of [
      'local_web',
      'local_worker',
      'registry.example/cloud/app:1',
      'busybox:user',
    ])
      engine.loadImage(image);
    await store.targets.save(LOCAL, {
      name: 'dev',
      config: {},
      apps: { '1': rawApp({ web: 'local_web', worker: 'local_worker' }) },
    });
    await store.targets.save(CLOUD, {
      name: 'dev',
      config: {},
      apps: { cloudapp: rawApp({ api: 'registry.example/cloud/app:1' }) },
    });
    for (const [name, image, labels] of [
      ['web_1_1_10ca12e1ea5e', 'local_web', supervised('1', 'web')],
      ['worker_1_1_10ca12e1ea5e', 'local_worker', supervised('1', 'worker')],
      ['api_5_5_abc', 'registry.example/cloud/app:1', supervised('cloudapp', 'api')],
      ['users-own', 'busybox:user', {}],
    ] as const) {
      const { id } = await engine.createContainer(container(name, image, labels));
      await engine.startContainer(id);
    }
    await engine.createNetwork({
      Name: '1_default',
      Driver: 'bridge',
      Labels: { 'io.balena.supervised': 'true', 'io.balena.app-uuid': '1' },
    });
    await engine.createNetwork({
      Name: 'cloudapp_default',
      Driver: 'bridge',
      Labels: { 'io.balena.supervised': 'true', 'io.balena.app-uuid': 'cloudapp' },
    });
    await engine.createVolume({
      Name: '1_data',
      Driver: 'local',
      Labels: { 'io.balena.supervised': 'true', 'io.balena.app-uuid': '1' },
    });
  });

  afterEach(async () => {
    await engine.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("removes the local app's containers, networks and images, and keeps everything else", async () => {
    const result = await leaveLocalMode({ engine, targets: store.targets, logger: silentLogger() });
    assert.deepEqual(result.containers.sort(), ['web_1_1_10ca12e1ea5e', 'worker_1_1_10ca12e1ea5e']);
    assert.deepEqual(result.networks, ['1_default']);
    assert.deepEqual(result.images.sort(), ['local_web', 'local_worker']);

    assert.deepEqual((await engine.listContainers()).map((c) => c.name).sort(), [
      'api_5_5_abc',
      'users-own',
    ]);
    assert.ok((await engine.listNetworks()).some((n) => n.name === 'cloudapp_default'));
    assert.deepEqual(
      (await engine.listVolumes()).map((v) => v.name),
      ['1_data'],
    );
    const images = (await engine.listImages()).flatMap((i) => i.repoTags);
    assert.ok(
      images.some((t) => t.startsWith('registry.example/cloud/app')) &&
        images.some((t) => t.startsWith('busybox')),
    );
    assert.equal(await store.targets.load(LOCAL), undefined);
    assert.deepEqual(Object.keys((await store.targets.load(CLOUD))!.apps), ['cloudapp']);
  });

  it('keeps the local target after a failed removal, and finishes on the next start', async () => {
    engine.failNext('removeContainer', 'ENGINE_ERROR');
    await leaveLocalMode({ engine, targets: store.targets, logger: silentLogger() });
    assert.notEqual(
      await store.targets.load(LOCAL),
      undefined,
      'the local target is kept for a retry',
    );
    assert.equal(
      (await engine.listContainers()).filter((c) => c.labels['io.balena.app-uuid'] === '1').length,
      1,
    );

    await leaveLocalMode({ engine, targets: store.targets, logger: silentLogger() });
    assert.equal(
      (await engine.listContainers()).filter((c) => c.labels['io.balena.app-uuid'] === '1').length,
      0,
    );
    assert.equal(await store.targets.load(LOCAL), undefined);
  });

  it('does nothing when there was no local session', async () => {
    await store.targets.clear(LOCAL);
    const result = await leaveLocalMode({ engine, targets: store.targets, logger: silentLogger() });
    assert.deepEqual(result, { containers: [], networks: [], images: [] });
    assert.equal((await engine.listContainers()).length, 4);
  });
});
