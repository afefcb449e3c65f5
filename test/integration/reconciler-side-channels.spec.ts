/**
 * No side channels, on the real engine: leaving local mode, volume clean-up and the supervisor network
 * are plans the planner makes and the executor runs inside the reconciler's loop (never engine calls
 * from other modules). Each goes through the reconciler (and the clean-up through the real HTTP API),
 * scoped by a unique owner label so nothing another test made is seen or touched.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerCreateSpec } from '../../src/domain/container-spec.js';
import { HostUpdateLocks } from '../../src/device/locks.js';
import { DockerEngine } from '../../src/engine/docker-engine.js';
import type { Step } from '../../src/planner/index.js';
import { leaveLocalMode } from '../../src/reconciler/local-mode-exit.js';
import type { Reconciler } from '../../src/reconciler/reconciler.js';
import type { ReconcilerOptions } from '../../src/reconciler/reconciler-options.js';
import { createReconciler } from '../../src/reconciler/wiring.js';
import { systemClock } from '../../src/shared/clock.js';
import { BosunError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import { openStore } from '../../src/store/open-store.js';
import type { JsonObject, Store, TargetOrigin } from '../../src/store/ports.js';
import {
  cleanupByLabel,
  DOCKER_SOCKET,
  requireDocker,
  TEST_LABEL,
  testDocker,
  uniquePrefix,
} from '../support/docker.js';
import { TEST_IMAGES } from '../support/images.js';
import { app, target } from '../support/planner-builders.js';
import { call, startHarness } from './api-harness.js';
import { dockerTarget, type DockerRig } from './support/reconciler-docker.js';

const LOCAL: TargetOrigin = { kind: 'local' };
const CLOUD: TargetOrigin = { kind: 'cloud', endpoint: 'https://api.example' };

/** The real engine, with removals that fail while `failRemovals` > 0 (an engine error, injected). */
class FlakyRemovalEngine extends DockerEngine {
  failRemovals = 0;
  override async removeContainer(
    id: string,
    options?: Parameters<DockerEngine['removeContainer']>[1],
  ): Promise<void> {
    if (this.failRemovals > 0) {
      this.failRemovals--;
      throw new BosunError('ENGINE_ERROR', 'injected: the engine refused the removal');
    }
    return super.removeContainer(id, options);
  }
}

interface Rig {
  prefix: string;
  dir: string;
  engine: FlakyRemovalEngine;
  store: Store;
  reconciler: Reconciler;
  steps: Step[];
  close(): Promise<void>;
}

async function rig(area: string, options: Partial<ReconcilerOptions> = {}): Promise<Rig> {
  const prefix = uniquePrefix(area);
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  const logger = silentLogger();
  const engine = new FlakyRemovalEngine({ socketPath: DOCKER_SOCKET, logger, clock: systemClock });
  const store = await openStore({ path: join(dir, 'db.sqlite'), logger });
  const locks = new HostUpdateLocks({ root: join(dir, 'locks'), logger });
  const steps: Step[] = [];
  const { reconciler } = createReconciler({
    engine,
    store,
    locks,
    clock: systemClock,
    logger,
    settings: () => ({ lockOverride: false, localMode: true }),
    scopeLabels: [`${TEST_LABEL}=${prefix}`],
    stepListener: { stepStarted: (step) => steps.push(step), stepEnded: () => undefined },
    options: { lockPollMs: 200, backoff: { baseMs: 200, capMs: 2000 }, ...options },
  });
  return {
    prefix,
    dir,
    engine,
    store,
    reconciler,
    steps,
    close: async () => {
      await reconciler.stop();
      await cleanupByLabel(prefix);
      await engine.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

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

describe('Reconciler: no side channels (real engine)', function () {
  this.timeout(120_000);
  before(requireDocker);

  describe('leaving local mode is a plan', () => {
    let r: Rig;
    let localApp: string;
    let cloudApp: string;
    let images: { web: string; worker: string };

    beforeEach(async () => {
      r = await rig('lm-exit');
      localApp = `${r.prefix}-local`;
      cloudApp = `${r.prefix}-cloud`;
      const docker = testDocker();
      // Two local builds (balena-cli's `local_<service>`), tags of the shared test image: removing a
      // tag never removes the image the other tests use.
      const repo = `local_${r.prefix.replaceAll('-', '_')}`;
      images = { web: `${repo}_web:latest`, worker: `${repo}_worker:latest` };
      for (const name of Object.values(images)) {
        const [repository, tag] = name.split(':') as [string, string];
        await docker.getImage(TEST_IMAGES.busybox).tag({ repo: repository, tag });
      }
      await r.store.targets.save(LOCAL, {
        name: 'dev',
        config: {},
        apps: { [localApp]: rawApp({ web: images.web, worker: images.worker }) },
      });
      await r.store.targets.save(CLOUD, {
        name: 'dev',
        config: {},
        apps: { [cloudApp]: rawApp({ api: TEST_IMAGES.busybox }) },
      });
      const scope = { [TEST_LABEL]: r.prefix };
      const supervised = (app: string, service: string): Record<string, string> => ({
        'io.balena.supervised': 'true',
        'io.balena.app-uuid': app,
        'io.balena.app-id': '1',
        'io.balena.service-id': '1',
        'io.balena.service-name': service,
        ...scope,
      });
      const spec = (name: string, image: string, labels: Record<string, string>) =>
        ({
          name,
          Image: image,
          Cmd: ['sleep', '600'],
          Env: [],
          Tty: false,
          Labels: labels,
          HostConfig: { NetworkMode: 'none', RestartPolicy: { Name: 'no' } },
        }) satisfies ContainerCreateSpec;
      const id = r.prefix.slice(-8);
      for (const c of [
        spec(`web_1_1_${id}`, images.web, supervised(localApp, 'web')),
        spec(`worker_1_1_${id}`, images.worker, supervised(localApp, 'worker')),
        spec(`api_5_5_${id}`, TEST_IMAGES.busybox, supervised(cloudApp, 'api')),
        spec(`${r.prefix}-users-own`, TEST_IMAGES.busybox, scope),
      ]) {
        const created = await r.engine.createContainer(c);
        await r.engine.startContainer(created.id);
      }
      for (const app of [localApp, cloudApp])
        await r.engine.createNetwork({
          Name: `${app}_default`,
          Driver: 'bridge',
          Labels: { 'io.balena.supervised': 'true', 'io.balena.app-uuid': app, ...scope },
        });
      await r.engine.createVolume({
        Name: `1_${r.prefix}-data`,
        Driver: 'local',
        Labels: { 'io.balena.supervised': 'true', 'io.balena.app-uuid': localApp, ...scope },
      });
    });

    afterEach(async () => {
      await r.close();
      const docker = testDocker();
      for (const name of Object.values(images))
        await docker
          .getImage(name)
          .remove()
          .catch(() => undefined);
    });

    const mine = async (): Promise<string[]> =>
      (await r.engine.listContainers({ labels: [`${TEST_LABEL}=${r.prefix}`] }))
        .map((c) => c.labels['io.balena.app-uuid'] ?? c.name)
        .sort();
    const leave = () =>
      leaveLocalMode({
        runPlan: (build, options) => r.reconciler.runPlan(build, options),
        targets: r.store.targets,
        logger: silentLogger(),
      });

    it("removes the local app's containers, network and images through planned steps, and keeps everything else", async () => {
      // Queued before the loop starts, as main.ts does at start-up: it runs first.
      const leaving = leave();
      r.reconciler.start();
      const result = await leaving;
      const id = r.prefix.slice(-8);
      assert.deepEqual(result.containers.sort(), [`web_1_1_${id}`, `worker_1_1_${id}`]);
      assert.deepEqual(result.networks, [`${localApp}_default`]);
      assert.deepEqual(result.images.sort(), [images.web, images.worker].sort());
      // Through the planner and the executor: the steps the loop ran, with their reasons.
      const kinds = r.steps.map((s) => s.kind).sort();
      assert.deepEqual(kinds, [
        'discardContainer',
        'discardContainer',
        'removeImage',
        'removeImage',
        'removeNetwork',
      ]);
      assert.ok(r.steps.every((s) => s.reason.startsWith('local mode ended')));

      assert.deepEqual(await mine(), [cloudApp, `${r.prefix}-users-own`].sort());
      const networks = (await r.engine.listNetworks()).map((n) => n.name);
      assert.ok(
        networks.includes(`${cloudApp}_default`) && !networks.includes(`${localApp}_default`),
      );
      const volumes = (await r.engine.listVolumes()).map((v) => v.name);
      assert.ok(volumes.includes(`1_${r.prefix}-data`), 'volumes outlive the local session');
      const tags = (await r.engine.listImages()).flatMap((i) => i.repoTags);
      assert.ok(!tags.includes(images.web) && !tags.includes(images.worker));
      assert.ok(tags.includes(TEST_IMAGES.busybox), 'the cloud app’s image stays');
      assert.equal(await r.store.targets.load(LOCAL), undefined);
      assert.deepEqual(Object.keys((await r.store.targets.load(CLOUD))!.apps), [cloudApp]);
    });

    it('keeps the local target after a failed removal, and finishes on the next try', async () => {
      r.reconciler.start();
      r.engine.failRemovals = 1;
      await leave();
      assert.notEqual(await r.store.targets.load(LOCAL), undefined, 'kept for a retry');
      assert.equal((await mine()).filter((a) => a === localApp).length, 1);

      await leave();
      assert.equal((await mine()).filter((a) => a === localApp).length, 0);
      assert.equal(await r.store.targets.load(LOCAL), undefined);
    });

    it('does nothing when there was no local session', async () => {
      r.reconciler.start();
      await r.store.targets.clear(LOCAL);
      const result = await leave();
      assert.deepEqual(result, { containers: [], networks: [], images: [] });
      assert.equal((await mine()).length, 4);
      assert.deepEqual(r.steps, []);
    });
  });

  it('GET /v2/cleanup-volumes removes only unused volumes bosun manages, of the key’s app, as a plan', async () => {
    const prefix = uniquePrefix('vol-clean');
    const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
    const steps: Step[] = [];
    let reconciler: Reconciler | undefined;
    const h = await startHarness({}, undefined, ({ store, engine }) => {
      reconciler = createReconciler({
        engine,
        store,
        locks: new HostUpdateLocks({ root: join(dir, 'locks'), logger: silentLogger() }),
        clock: systemClock,
        logger: silentLogger(),
        scopeLabels: [`${TEST_LABEL}=${prefix}`],
        stepListener: { stepStarted: (step) => steps.push(step), stepEnded: () => undefined },
      }).reconciler;
      return { reconciler };
    });
    const appId = 900_000 + Math.floor(Math.random() * 90_000);
    const other = appId + 1;
    const names = {
      orphan: `${appId}_${prefix}-orphan`,
      foreign: `${appId}_${prefix}-foreign`,
      mounted: `${appId}_${prefix}-mounted`,
      otherApp: `${other}_${prefix}-orphan`,
    };
    const supervised = { 'io.balena.supervised': 'true', [TEST_LABEL]: prefix };
    try {
      for (const name of [names.orphan, names.mounted, names.otherApp])
        await h.engine.createVolume({ Name: name, Driver: 'local', Labels: supervised });
      await h.engine.createVolume({
        Name: names.foreign,
        Driver: 'local',
        Labels: { [TEST_LABEL]: prefix },
      });
      // A user's container (not bosun's) mounts one: it stays.
      await h.engine.createContainer({
        name: `${prefix}-user`,
        Image: TEST_IMAGES.busybox,
        Cmd: ['true'],
        Env: [],
        Labels: { [TEST_LABEL]: prefix },
        Tty: false,
        HostConfig: {
          NetworkMode: 'none',
          RestartPolicy: { Name: 'no' },
          Binds: [`${names.mounted}:/data`],
        },
      });
      // The real reconciler runs its loop so that it can run the one-off plan; a scoped key works only
      // while its app is in the target.
      reconciler?.start(target(app({ uuid: `cleanup${appId}`, appId }, undefined)));
      const scoped = await h.store.apiKeys.appKey(appId, 'main');
      const r = await call(h, 'GET', '/v2/cleanup-volumes', { key: scoped });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { status: 'success' });
      const left = new Set((await h.engine.listVolumes()).map((v) => v.name));
      assert.equal(left.has(names.orphan), false, 'the unused managed volume went');
      assert.equal(left.has(names.foreign), true, 'a volume bosun did not make stays');
      assert.equal(left.has(names.mounted), true, 'a mounted volume stays');
      assert.equal(left.has(names.otherApp), true, 'another app’s volume stays');
      assert.deepEqual(
        steps.map((s) => s.id),
        [`removeVolume:${names.orphan}`],
        'removed by a planned step',
      );
    } finally {
      await reconciler?.stop();
      await h.close();
      await cleanupByLabel(prefix);
      for (const name of Object.values(names))
        await testDocker()
          .getVolume(name)
          .remove()
          .catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('the supervisor network is a planned step', () => {
    let r: Rig | undefined;
    let network: string | undefined;
    after(async () => {
      await r?.close();
      if (network !== undefined)
        await testDocker()
          .getNetwork(network)
          .remove()
          .catch(() => undefined);
    });

    it('is created when missing, before a container that joins it', async () => {
      const octet = 1 + Math.floor(Math.random() * 250);
      // Also the bridge interface's name, so at most 15 characters.
      network = `bsup-${uniquePrefix('x').slice(-8)}`;
      const spec = { name: network, subnet: `10.199.${octet}.0/28`, gateway: `10.199.${octet}.1` };
      r = await rig('supnet', { supervisorNetwork: spec });
      const identity = {
        prefix: r.prefix,
        uuid: `${r.prefix.replaceAll('-', '')}`.slice(-32),
        appId: 20_000 + octet,
        lockRoot: join(r.dir, 'locks'),
      } as unknown as DockerRig;
      const target = dockerTarget(identity, 'c1', [{ name: 'main' }]);
      const main = target.apps[identity.uuid]!.release!.services['main']!;
      const endpoints = main.createSpec.NetworkingConfig?.EndpointsConfig ?? {};
      main.createSpec = {
        ...main.createSpec,
        NetworkingConfig: { EndpointsConfig: { ...endpoints, [spec.name]: {} } },
      };
      r.reconciler.start(target);
      const status = await r.reconciler.whenSettled();
      assert.equal(
        status.apps[identity.uuid]?.services['main']?.status,
        'Running',
        JSON.stringify({ status, steps: r.steps.map((s) => s.id) }),
      );

      const info = await testDocker().getNetwork(spec.name).inspect();
      assert.equal(info.IPAM?.Config?.[0]?.Subnet, spec.subnet);
      assert.equal(info.IPAM?.Config?.[0]?.Gateway, spec.gateway);
      const container = (
        await r.engine.listContainers({ labels: [`${TEST_LABEL}=${r.prefix}`] })
      )[0];
      assert.ok(container?.networks[spec.name] !== undefined, 'the service joined it');
      const ids = r.steps.map((s) => s.id);
      const created = ids.indexOf(`createSupervisorNetwork:${spec.name}`);
      assert.ok(created >= 0, `planned as a step (${ids.join(', ')})`);
      assert.ok(created < ids.findIndex((id) => id.startsWith('createContainer:')));
      assert.equal(ids.filter((id) => id.startsWith('createSupervisorNetwork')).length, 1);
    });
  });
});
