/**
 * The real DockerEngine against the EngineAdapter contract, on the machine's Docker engine and the local
 * test registries (scripts/ensure-engine.sh, ensure-registry.sh, make-test-images.sh), plus what only a
 * real engine can show: the event stream surviving an engine restart, and the request counter.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DockerEngine } from '../../src/engine/docker-engine.js';
import type { EngineEvent } from '../../src/engine/port.js';
import { systemClock } from '../../src/shared/clock.js';
import type { FeedSubscription } from '../../src/shared/event-feed.js';
import { silentLogger } from '../../src/shared/logger.js';
import { firstEvent } from '../support/event-feed.js';
import { engineContract, type EngineHarness } from '../contract/engine.contract.js';
import {
  cleanupByLabel,
  DOCKER_SOCKET,
  removeImagesByPrefix,
  requireDocker,
  TEST_LABEL,
  uniquePrefix,
} from '../support/docker.js';
import { TEST_IMAGES } from '../support/images.js';
import {
  AUTH_REGISTRY,
  OPEN_REGISTRY,
  authRegistryAuth,
  publishSyntheticImage,
  requireRegistries,
} from '../support/registry.js';

const ENSURE_ENGINE = fileURLToPath(new URL('../../scripts/ensure-engine.sh', import.meta.url));

function newEngine(): DockerEngine {
  return new DockerEngine({
    socketPath: DOCKER_SOCKET,
    logger: silentLogger(),
    clock: systemClock,
    eventBackoff: { initialMs: 50, maxMs: 1000 },
  });
}

async function dockerHarness(): Promise<EngineHarness> {
  await requireDocker();
  await requireRegistries();
  const prefix = uniquePrefix('engine');
  const engine = newEngine();
  await engine.inspectImage(TEST_IMAGES.busybox).catch(() => engine.pullImage(TEST_IMAGES.busybox));
  const published = new Set<string>();
  return {
    engine,
    prefix,
    ownerLabel: TEST_LABEL,
    runnableImage: TEST_IMAGES.busybox,
    authRegistry: { auth: authRegistryAuth() },
    publishImage: async ({ registry, repository, layerSizes }) => {
      const host = registry === 'auth' ? AUTH_REGISTRY : OPEN_REGISTRY;
      // The seed is the repository: each contract image has layers no other image shares.
      const ref = await publishSyntheticImage({
        registry: host,
        repository,
        tag: '1',
        layerSizes,
        seed: repository,
      });
      published.add(`${host}/${repository}`);
      await removeImagesByPrefix(`${host}/${repository}`); // so the pull really downloads
      return ref;
    },
    cleanup: async () => {
      await cleanupByLabel(prefix);
      for (const repository of [...published, `${prefix}/`]) await removeImagesByPrefix(repository);
      await engine.close();
    },
  };
}

engineContract('DockerEngine', dockerHarness);

describe('DockerEngine on a real engine', function () {
  this.timeout(180_000);
  let prefix: string;
  let engine: DockerEngine;

  before(async function () {
    await requireDocker();
    prefix = uniquePrefix('engine-x');
    engine = newEngine();
  });
  after(async function () {
    await cleanupByLabel(prefix);
    await engine.close();
  });

  it('counts every engine request, once', async function () {
    const before = engine.requestCount();
    await engine.ping();
    await engine.listImages();
    assert.equal(engine.requestCount() - before, 2);
  });

  it('translates an unreachable socket to ENGINE_UNREACHABLE', async function () {
    const nowhere = new DockerEngine({
      socketPath: '/nonexistent/docker.sock',
      logger: silentLogger(),
      clock: systemClock,
    });
    await assert.rejects(
      nowhere.listContainers(),
      (err: unknown) => (err as { code?: string }).code === 'ENGINE_UNREACHABLE',
    );
    await assert.rejects(
      nowhere.ping(),
      (err: unknown) => (err as { code?: string }).code === 'ENGINE_UNREACHABLE',
    );
    await nowhere.close();
  });

  it('keeps the event stream across an engine restart: disconnected, reconnected, then new events', async function () {
    const seen: EngineEvent[] = [];
    const subscription: FeedSubscription = engine.events().subscribe((e) => seen.push(e));
    try {
      const reconnected = firstEvent(engine.events(), (e) => e.type === 'reconnected', 150_000);
      // Wait until the stream is live (an event of our own arrives) before pulling the engine away.
      const probeName = `${prefix}-probe`;
      const probed = firstEvent(engine.events(), (e) => e.type === 'volume' && e.id === probeName);
      await engine.createVolume({
        Name: probeName,
        Driver: 'local',
        Labels: { [TEST_LABEL]: prefix },
      });
      await probed;

      await promisify(execFile)('bash', [ENSURE_ENGINE, '--restart'], { timeout: 170_000 });
      await reconnected;
      const types = seen.map((e) => e.type);
      assert.ok(types.indexOf('disconnected') >= 0, 'disconnected was emitted');
      assert.ok(
        types.indexOf('disconnected') < types.indexOf('reconnected'),
        'disconnected before reconnected',
      );

      const name = `${prefix}-after-restart`;
      const created = firstEvent(
        engine.events(),
        (e) => e.type === 'container' && e.name === name && e.action === 'create',
      );
      await engine.createContainer({
        name,
        Image: TEST_IMAGES.busybox,
        Env: [],
        Labels: { [TEST_LABEL]: prefix },
        Tty: false,
        HostConfig: { NetworkMode: 'bridge', RestartPolicy: { Name: 'no' } },
      });
      await created;
    } finally {
      subscription.unsubscribe();
    }
  });
});
