/**
 * How the executor carries out single steps, on the FakeEngine (which passes the engine contract suite)
 * with the real SQLite store and real lock files: the config-hash label and extra networks at create,
 * hand-over retirement, idempotent creates and removals, pulls recorded with progress, commits recorded.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostUpdateLocks } from '../../src/device/locks.js';
import { FakeEngine } from '../support/fake-engine/fake-engine.js';
import { DownloadTracker } from '../../src/executor/downloads.js';
import { RegistryAuthResolver } from '../../src/executor/registry-auth.js';
import { CONFIG_HASH_LABEL } from '../../src/domain/config-hash.js';
import { lockKey } from '../../src/domain/keys.js';
import { StepRunner, type StepRunContext } from '../../src/executor/step-runner.js';
import type { Step } from '../../src/planner/steps.js';
import { commitStore, pulledImageStore } from '../../src/reconciler/wiring.js';
import { silentLogger } from '../../src/shared/logger.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/ports.js';
import { network } from '../support/planner-builders.js';
import { APP, labelled } from '../unit/reconciler/support/targets.js';

describe('StepRunner on the FakeEngine', () => {
  let dir: string;
  let engine: FakeEngine;
  let store: Store;
  let locks: HostUpdateLocks;
  /** Who holds which lock, without the file times. */
  const heldLocks = async (): Promise<unknown[]> =>
    (await locks.list()).map(({ appId, serviceName, heldBy }) => ({ appId, serviceName, heldBy }));
  let downloads: DownloadTracker;
  let runner: StepRunner;
  const signal = new AbortController().signal;
  const ctx: StepRunContext = {
    appIds: new Map([[APP.uuid, APP.appId]]),
    targetCommits: new Map([[APP.uuid, 'c1']]),
    forceLocks: false,
    staleLocks: new Set(),
  };
  const rel = { app: APP, commit: 'c1', releaseId: 1 };
  const base = { reason: 'test', dependsOn: [], appUuid: APP.uuid };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bosun-test-step-runner-'));
    engine = new FakeEngine();
    store = await openStore({ path: join(dir, 'db.sqlite'), logger: silentLogger() });
    locks = new HostUpdateLocks({ root: join(dir, 'locks'), logger: silentLogger() });
    downloads = new DownloadTracker();
    runner = new StepRunner({
      engine,
      locks,
      commits: commitStore(store.commits),
      images: pulledImageStore(store.images),
      auth: new RegistryAuthResolver(() => ({})),
      downloads,
      logger: silentLogger(),
    });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const run = (step: Step): Promise<void> => runner.run(step, signal, ctx);

  it('pulls, records the image with its engine id and reports progress while it downloads', async () => {
    engine.registry.add('registry.test/api:c1', { layerSizes: [1000, 3000] });
    const seen: Array<number | undefined> = [];
    downloads.onChange((list) => seen.push(...list.map((d) => d.progress)));
    await run({
      ...base,
      id: 'pull',
      kind: 'pullImage',
      image: 'registry.test/api:c1',
      serviceName: 'api',
    });
    const [record] = await store.images.list();
    assert.equal(record?.name, 'registry.test/api:c1');
    assert.equal(record?.engineId, (await engine.inspectImage('registry.test/api:c1')).id);
    assert.equal(record?.commit, 'c1');
    assert.ok(
      seen.some((p) => p !== undefined && p > 0 && p <= 100),
      JSON.stringify(seen),
    );
    assert.deepEqual(downloads.list(), [], 'finished downloads are no longer listed');
  });

  it('creates with the config-hash label, on the main network, then connects the others; a lock dir is prepared', async () => {
    engine.loadImage('registry.test/api:c1');
    const main = network(APP, 'default');
    const extra = network(APP, 'backend');
    await engine.createNetwork(main.createSpec);
    await engine.createNetwork(extra.createSpec);
    const service = labelled(rel, 'api', { configHash: 'hash-1' });
    service.createSpec.NetworkingConfig = {
      EndpointsConfig: {
        [main.engineName]: { Aliases: ['api'] },
        [extra.engineName]: { Aliases: ['api', 'api-backend'] },
      },
    };
    await run({ ...base, id: 'create', kind: 'createContainer', service });
    const c = await engine.inspectContainer(service.containerName);
    assert.equal(c.labels[CONFIG_HASH_LABEL], 'hash-1');
    assert.deepEqual(Object.keys(c.networks).sort(), [extra.engineName, main.engineName].sort());
    assert.ok(c.networks[extra.engineName]?.aliases.includes('api-backend'));
    assert.equal(c.state, 'created');
    await writeFile(join(locks.serviceDir(APP.appId, 'api'), 'probe'), ''); // the directory exists
  });

  it('a lock directory that cannot be made fails the create and leaves no container behind', async () => {
    engine.loadImage('registry.test/api:c1');
    await engine.createNetwork(network(APP, 'default').createSpec);
    const blocked = join(dir, 'not-a-dir');
    await writeFile(blocked, ''); // a file where the lock root should be: mkdir fails with ENOTDIR
    const failing = new StepRunner({
      engine,
      locks: new HostUpdateLocks({ root: blocked, logger: silentLogger() }),
      commits: commitStore(store.commits),
      images: pulledImageStore(store.images),
      auth: new RegistryAuthResolver(() => ({})),
      downloads,
      logger: silentLogger(),
    });
    const service = labelled(rel, 'api');
    await assert.rejects(
      failing.run({ ...base, id: 'create', kind: 'createContainer', service }, signal, ctx),
      /ENOTDIR|not a directory/i,
    );
    assert.deepEqual(
      (await engine.listContainers({ labels: [] })).map((c) => c.name),
      [],
      'the container created alongside the failed directory was removed',
    );
  });

  it('retires a hand-over container: restart policy no, renamed old_…, stale hand-over flags cleared', async () => {
    engine.loadImage('registry.test/api:c1');
    await engine.createNetwork(network(APP, 'default').createSpec);
    const service = labelled(rel, 'api');
    const { id } = await engine.createContainer(service.createSpec);
    await engine.startContainer(id);
    const flag = join(await locks.prepare(APP.appId, 'api'), 'handover-complete');
    await writeFile(flag, '');
    await run({
      ...base,
      id: 'retire',
      kind: 'retireContainer',
      containerId: id,
      serviceName: 'api',
      newName: `old_${service.containerName}`,
    });
    const c = await engine.inspectContainer(id);
    assert.equal(c.name, `old_${service.containerName}`);
    assert.equal(c.restartPolicy, 'no');
    assert.equal(c.state, 'running', 'still serving until the new one takes over');
    assert.deepEqual(await locks.handoverComplete(), []);
  });

  it('is idempotent where a crash could repeat a step: create network twice, remove things already gone', async () => {
    const net = network(APP, 'default');
    await run({ ...base, id: 'n1', kind: 'createNetwork', network: net });
    await run({ ...base, id: 'n1', kind: 'createNetwork', network: net });
    await run({
      ...base,
      id: 'rm',
      kind: 'removeContainer',
      containerId: 'nope',
      serviceName: 'api',
    });
    await run({ ...base, id: 'rv', kind: 'removeVolume', engineName: '7_nope' });
    await run({ ...base, id: 'rn', kind: 'removeNetwork', engineName: 'nope' });
    assert.equal((await engine.listNetworks()).filter((n) => n.name === net.engineName).length, 1);
  });

  it('takes and releases the app’s locks, refusing on a user lock; records the commit', async () => {
    await run({
      ...base,
      id: 'take',
      kind: 'takeLock',
      appId: APP.appId,
      services: ['api'],
      force: false,
    });
    assert.deepEqual(await heldLocks(), [
      { appId: APP.appId, serviceName: 'api', heldBy: 'agent' },
    ]);
    await run({ ...base, id: 'release', kind: 'releaseLock', appId: APP.appId });
    assert.deepEqual(await locks.list(), []);
    await writeFile(join(locks.serviceDir(APP.appId, 'api'), 'updates.lock'), '');
    await assert.rejects(
      () =>
        run({
          ...base,
          id: 'take',
          kind: 'takeLock',
          appId: APP.appId,
          services: ['api'],
          force: false,
        }),
      /Lockfile exists/,
    );
    await runner.run(
      { ...base, id: 'take', kind: 'takeLock', appId: APP.appId, services: ['api'], force: false },
      signal,
      {
        ...ctx,
        staleLocks: new Set([lockKey(APP.appId, 'api')]),
      },
    );
    assert.deepEqual(
      await heldLocks(),
      [{ appId: APP.appId, serviceName: 'api', heldBy: 'agent' }],
      'a stale user lock is overridden',
    );
    await run({ ...base, id: 'commit', kind: 'recordCommit', commit: 'c1' });
    assert.equal(await store.commits.get(APP.uuid), 'c1');
  });
});
