/**
 * The FakeEngine against the EngineAdapter contract, plus the test hooks simulations rely on.
 * The registry hosts are the real test registries' names, but nothing here touches the network.
 */
import assert from 'node:assert/strict';
import { FakeEngine } from '../support/fake-engine/fake-engine.js';
import { FakeRegistry } from '../support/fake-engine/fake-registry.js';
import type { EngineEvent } from '../../src/engine/port.js';
import { isBosunError } from '../../src/shared/errors.js';
import {
  engineContract,
  FAKE_EXITS_LABEL,
  FAKE_IGNORES_SIGTERM_LABEL,
  FAKE_OUTPUT_LABEL,
  type EngineHarness,
} from '../contract/engine.contract.js';
import { TEST_IMAGES } from '../support/images.js';
import { collectEvents } from '../support/event-feed.js';
import {
  AUTH_REGISTRY,
  OPEN_REGISTRY,
  REGISTRY_CREDENTIALS,
  authRegistryAuth,
} from '../support/registry.js';

function fakeHarness(): EngineHarness {
  const registry = new FakeRegistry();
  registry.add(TEST_IMAGES.busybox, { layerSizes: [2 * 1024 * 1024] });
  registry.requireAuth(AUTH_REGISTRY, REGISTRY_CREDENTIALS);
  const engine = new FakeEngine({
    registry,
    processFor: (spec) => ({
      ignoresSigterm: spec.Labels[FAKE_IGNORES_SIGTERM_LABEL] === 'true',
      output: spec.Labels[FAKE_OUTPUT_LABEL]?.split('|'),
      exitsWith:
        spec.Labels[FAKE_EXITS_LABEL] === undefined
          ? undefined
          : Number(spec.Labels[FAKE_EXITS_LABEL]),
    }),
  });
  engine.loadImage(TEST_IMAGES.busybox);
  return {
    engine,
    prefix: 'bosun-test-fake',
    ownerLabel: 'io.bosun.test.owner',
    runnableImage: TEST_IMAGES.busybox,
    authRegistry: { auth: authRegistryAuth() },
    publishImage: ({ registry: which, repository, layerSizes }) => {
      const ref = `${which === 'auth' ? AUTH_REGISTRY : OPEN_REGISTRY}/${repository}:1`;
      registry.add(ref, { layerSizes });
      return Promise.resolve(ref);
    },
    cleanup: () => engine.close(),
  };
}

engineContract('FakeEngine', () => Promise.resolve(fakeHarness()));

describe('FakeEngine test hooks', function () {
  it('failNext makes exactly the next call of that operation fail with the given code', async function () {
    const { engine } = fakeHarness();
    const fake = engine as FakeEngine;
    fake.failNext('listContainers', 'ENGINE_UNREACHABLE');
    await assert.rejects(fake.listContainers(), (err: unknown) =>
      isBosunError(err, 'ENGINE_UNREACHABLE'),
    );
    assert.deepEqual(await fake.listContainers(), []);
  });

  it('crash applies the restart policy after the engine delay, and not for policy "no"', async function () {
    const fake = fakeHarness().engine as FakeEngine;
    const spec = (name: string, policy: 'no' | 'always') => ({
      name,
      Image: TEST_IMAGES.busybox,
      Env: [],
      Labels: {},
      Tty: false,
      HostConfig: { NetworkMode: 'bridge', RestartPolicy: { Name: policy } },
    });
    const always = await fake.createContainer(spec('always', 'always'));
    const never = await fake.createContainer(spec('never', 'no'));
    await fake.startContainer(always.id);
    await fake.startContainer(never.id);
    const events = collectEvents(fake.events(), {
      filter: (e: EngineEvent) => e.type === 'container' && e.id === always.id,
      count: 2,
    });
    await fake.crash(always.id, 1);
    await fake.crash(never.id, 1);
    assert.deepEqual(
      (await events).map((e) => (e.type === 'container' ? e.action : '')),
      ['die', 'start'],
    );
    assert.equal((await fake.inspectContainer(always.id)).state, 'running');
    const stopped = await fake.inspectContainer(never.id);
    assert.equal(stopped.state, 'exited');
    assert.equal(stopped.exitCode, 1);
  });

  it('simulateEngineRestart: disconnected, then reconnected, with only restart-policy containers running again', async function () {
    const fake = fakeHarness().engine as FakeEngine;
    const spec = (name: string, policy: 'no' | 'always') => ({
      name,
      Image: TEST_IMAGES.busybox,
      Env: [],
      Labels: {},
      Tty: false,
      HostConfig: { NetworkMode: 'bridge', RestartPolicy: { Name: policy } },
    });
    const kept = await fake.createContainer(spec('kept', 'always'));
    const lost = await fake.createContainer(spec('lost', 'no'));
    await fake.startContainer(kept.id);
    await fake.startContainer(lost.id);
    const markers = collectEvents(fake.events(), {
      filter: (e: EngineEvent) => e.type === 'disconnected' || e.type === 'reconnected',
      count: 2,
    });
    fake.simulateEngineRestart();
    assert.deepEqual(
      (await markers).map((e) => e.type),
      ['disconnected', 'reconnected'],
    );
    assert.equal((await fake.inspectContainer(kept.id)).state, 'running');
    assert.equal((await fake.inspectContainer(lost.id)).state, 'exited');
  });

  it('counts requests as DockerEngine would send them (a list inspects each item)', async function () {
    const fake = fakeHarness().engine as FakeEngine;
    const before = fake.requestCount();
    await fake.listNetworks(); // 1 list + 3 built-in networks inspected
    assert.equal(fake.requestCount() - before, 4);
  });
});
