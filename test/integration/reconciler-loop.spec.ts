/**
 * The reconcile loop end to end on the FakeEngine (which passes the engine contract suite), the real
 * planner, a real SQLite store and real lock files: convergence, recreate-only-what-changed, latest
 * target wins, backoff of a failing pull that holds back only its service, update locks (wait, release,
 * force), engine outages, intermediate targets and zero engine requests while idle.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostUpdateLocks } from '../../src/device/locks.js';
import type { TargetState } from '../../src/domain/model.js';
import { FakeEngine } from '../support/fake-engine/fake-engine.js';
import type { Reconciler } from '../../src/reconciler/reconciler.js';
import { createReconciler } from '../../src/reconciler/wiring.js';
import { BosunError, isBosunError } from '../../src/shared/errors.js';
import { createLogger, silentLogger } from '../../src/shared/logger.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/ports.js';
import { flush, ManualClock } from '../unit/reconciler/support/manual-clock.js';
import { APP, OTHER_APP, merge, releaseTarget } from '../unit/reconciler/support/targets.js';

interface Rig {
  clock: ManualClock;
  engine: FakeEngine;
  store: Store;
  locks: HostUpdateLocks;
  reconciler: Reconciler;
  dir: string;
}

async function rig(
  options: { loadTarget?: () => Promise<TargetState | undefined> } = {},
): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'bosun-test-reconciler-'));
  const clock = new ManualClock();
  const engine = new FakeEngine({ clock });
  // BOSUN_TEST_LOG=debug shows the loop's rounds when a test fails.
  const level = process.env['BOSUN_TEST_LOG'];
  const logger =
    level === 'debug' || level === 'info'
      ? createLogger({ level, destination: process.stderr })
      : silentLogger();
  const store = await openStore({ path: join(dir, 'db.sqlite'), logger, clock });
  const locks = new HostUpdateLocks({ root: join(dir, 'locks'), logger });
  const { reconciler } = createReconciler({
    engine,
    store,
    locks,
    clock,
    logger,
    ...(options.loadTarget === undefined ? {} : { loadTarget: options.loadTarget }),
    options: {
      backoff: { baseMs: 1000, capMs: 8000, jitter: 0 },
      lockPollMs: 500,
      staleLockAfterMs: 600_000,
    },
  });
  return { clock, engine, store, locks, reconciler, dir };
}

async function teardown(r: Rig): Promise<void> {
  await r.reconciler.stop();
  await r.store.close();
  await rm(r.dir, { recursive: true, force: true });
}

function addImages(engine: FakeEngine, t: TargetState): void {
  for (const a of Object.values(t.apps))
    for (const s of Object.values(a.release?.services ?? {})) engine.registry.add(s.image);
}

async function containers(
  engine: FakeEngine,
): Promise<Array<{ id: string; name: string; service: string; state: string }>> {
  const list = await engine.listContainers({ labels: ['io.balena.supervised'] });
  return list
    .map((c) => ({
      id: c.id,
      name: c.name,
      service: c.labels['io.balena.service-name'] ?? '',
      state: c.state,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

describe('Reconciler on the FakeEngine', () => {
  let r: Rig;
  afterEach(async () => {
    if (r !== undefined) await teardown(r);
  });

  it('brings a release up from nothing and records its commit, then makes no engine request while idle', async () => {
    r = await rig();
    const t = releaseTarget('c1', [['api'], ['db'], ['cache']], ['data']);
    addImages(r.engine, t);
    r.reconciler.start(t);
    const status = await r.reconciler.whenSettled();
    assert.equal(status.phase, 'converged');
    assert.equal(status.appState, 'applied');
    const running = await containers(r.engine);
    assert.deepEqual(
      running.map((c) => [c.service, c.state]),
      [
        ['api', 'running'],
        ['cache', 'running'],
        ['db', 'running'],
      ],
    );
    assert.equal(await r.store.commits.get(APP.uuid), 'c1');
    assert.equal(status.apps[APP.uuid]?.updateStatus, 'done');
    assert.equal(status.apps[APP.uuid]?.services['api']?.status, 'Running');
    assert.ok((await r.engine.listVolumes()).some((v) => v.name === `${APP.appId}_data`));

    const before = r.engine.requestCount();
    await r.clock.advance(10 * 60_000);
    assert.equal(r.engine.requestCount(), before, 'no engine requests while converged');
  });

  it('recreates only the service whose config changed; the others keep their containers', async () => {
    r = await rig();
    const t1 = releaseTarget('c1', [['api'], ['db']]);
    addImages(r.engine, t1);
    r.reconciler.start(t1);
    await r.reconciler.whenSettled();
    const before = await containers(r.engine);
    const t2 = releaseTarget('c1', [['api', { configHash: 'env-changed' }], ['db']]);
    r.reconciler.setTarget(t2);
    assert.equal((await r.reconciler.whenSettled()).phase, 'converged');
    const after = await containers(r.engine);
    const id = (list: typeof before, s: string): string | undefined =>
      list.find((c) => c.service === s)?.id;
    assert.equal(id(after, 'db'), id(before, 'db'), 'db untouched');
    assert.notEqual(id(after, 'api'), id(before, 'api'), 'api recreated');
    assert.equal(after.length, 2);
    assert.ok(after.every((c) => c.state === 'running'));
  });

  it('the latest target wins over one still being applied', async () => {
    r = await rig();
    const t1 = releaseTarget('c1', [['api']]);
    const t2 = releaseTarget('c2', [['api'], ['worker']]);
    addImages(r.engine, t1);
    addImages(r.engine, t2);
    r.reconciler.start(t1);
    r.reconciler.setTarget(t2);
    await r.reconciler.whenSettled();
    const names = (await containers(r.engine)).map((c) => c.name);
    assert.ok(
      names.every((n) => n.endsWith('_c2')),
      names.join(),
    );
    assert.equal(names.length, 2);
    assert.equal(await r.store.commits.get(APP.uuid), 'c2');
  });

  it('a pull that fails backs off and holds back only what depends on it, then succeeds after the backoff', async () => {
    r = await rig();
    // The planner starts an app's services once all of the app's images are there, so the broken
    // image belongs to another app: that app waits, this one comes up.
    const t = merge(
      releaseTarget('c1', [['api']]),
      releaseTarget('c1', [['broken']], [], OTHER_APP),
    );
    r.engine.registry.add('registry.test/api:c1');
    r.reconciler.start(t);
    const blocked = await r.reconciler.whenSettled();
    assert.equal(blocked.phase, 'blocked');
    assert.equal(blocked.appState, 'applying');
    const wait = blocked.apps[OTHER_APP.uuid]?.services['broken']?.waitingFor;
    assert.equal(wait?.kind, 'backoff');
    assert.equal(blocked.apps[OTHER_APP.uuid]?.updateStatus, 'downloading');
    assert.equal(blocked.apps[APP.uuid]?.updateStatus, 'done');
    assert.deepEqual(
      (await containers(r.engine)).map((c) => [c.service, c.state]),
      [['api', 'running']],
    );
    const requests = r.engine.requestCount();
    await r.clock.advance(999);
    assert.equal(r.engine.requestCount(), requests, 'nothing retried before the backoff expires');
    r.engine.registry.add('registry.test/broken:c1');
    await r.clock.advance(1);
    assert.equal(
      (await r.reconciler.whenSettled({ afterRound: blocked.rounds })).phase,
      'converged',
    );
    assert.equal((await containers(r.engine)).length, 2);
  });

  it('waits for a user update lock, applies once it is released, and force overrides it', async () => {
    r = await rig();
    const t1 = releaseTarget('c1', [['api']]);
    const t2 = releaseTarget('c2', [['api', { configHash: 'v2' }]]);
    const t3 = releaseTarget('c3', [['api', { configHash: 'v3' }]]);
    for (const t of [t1, t2, t3]) addImages(r.engine, t);
    r.reconciler.start(t1);
    await r.reconciler.whenSettled();
    const lockFile = join(await r.locks.prepare(APP.appId, 'api'), 'updates.lock');
    await writeFile(lockFile, '');

    r.reconciler.setTarget(t2);
    const locked = await r.reconciler.whenSettled();
    assert.equal(locked.phase, 'blocked');
    assert.equal(locked.apps[APP.uuid]?.services['api']?.waitingFor?.kind, 'locked');
    assert.ok((await containers(r.engine))[0]?.name.endsWith('_c1'), 'still the old release');

    const round = locked.rounds;
    await unlink(lockFile);
    await r.clock.advance(500); // the lock poll sees it gone and wakes the loop
    assert.equal((await r.reconciler.whenSettled({ afterRound: round })).phase, 'converged');
    assert.ok((await containers(r.engine))[0]?.name.endsWith('_c2'));
    assert.deepEqual(await r.locks.list(), [], 'the agent released its own locks');

    await writeFile(lockFile, '');
    r.reconciler.setTarget(t3, { force: true });
    assert.equal((await r.reconciler.whenSettled()).phase, 'converged');
    assert.ok(
      (await containers(r.engine))[0]?.name.endsWith('_c3'),
      'forced through the user lock',
    );
  });

  it('an unreachable engine is waited for, then the apply resumes', async () => {
    r = await rig();
    const t = releaseTarget('c1', [['api']]);
    addImages(r.engine, t);
    r.engine.failNext('listContainerSummaries', 'ENGINE_UNREACHABLE', 1);
    r.engine.failNext('ping', 'ENGINE_UNREACHABLE', 2);
    r.reconciler.start(t);
    await flush();
    assert.equal(r.reconciler.status().phase, 'waiting-for-engine');
    await r.clock.advance(1000);
    assert.equal((await r.reconciler.whenSettled()).phase, 'converged');
    assert.equal((await containers(r.engine)).length, 1);
  });

  it('loads and applies the stored target at start-up; a malformed one is reported and nothing is applied', async () => {
    const t = releaseTarget('c1', [['api']]);
    r = await rig({ loadTarget: () => Promise.resolve(t) });
    addImages(r.engine, t);
    r.reconciler.start();
    await flush();
    assert.equal((await r.reconciler.whenSettled()).phase, 'converged');
    assert.equal((await containers(r.engine)).length, 1);
    await teardown(r);

    r = await rig({
      loadTarget: () =>
        Promise.reject(new BosunError('VALIDATION_FAILED', 'apps.x.services: expected object')),
    });
    r.reconciler.start();
    await flush();
    const status = await r.reconciler.whenSettled();
    assert.match(status.lastError ?? '', /stored target was not applied: apps\.x\.services/);
    assert.equal(r.engine.requestCount(), 0, 'nothing of it reached the engine');
  });

  it('applies intermediate targets exclusively and refuses them with UPDATES_LOCKED on a user lock', async () => {
    r = await rig();
    const t = releaseTarget('c1', [['api'], ['db']]);
    addImages(r.engine, t);
    r.reconciler.start(t);
    await r.reconciler.whenSettled();
    const before = await containers(r.engine);
    const app = t.apps[APP.uuid]!;
    const withoutServices: TargetState = {
      ...t,
      apps: { [APP.uuid]: { ...app, release: { ...app.release!, services: {} } } },
    };
    await r.reconciler.applyIntermediate(withoutServices, { force: false });
    assert.deepEqual(await containers(r.engine), [], 'restart: containers removed first');
    await r.reconciler.applyIntermediate(t, { force: false });
    const after = await containers(r.engine);
    assert.equal(after.length, 2);
    assert.ok(
      after.every((c) => !before.some((b) => b.id === c.id)),
      'new containers',
    );

    await writeFile(join(await r.locks.prepare(APP.appId, 'db'), 'updates.lock'), '');
    await assert.rejects(
      () => r.reconciler.applyIntermediate(withoutServices, { force: false }),
      (err: unknown) => isBosunError(err, 'UPDATES_LOCKED'),
    );
    assert.equal(
      (await containers(r.engine)).find((c) => c.service === 'db')?.state,
      'running',
      'the locked service was not touched',
    );
  });

  it('engine events wake the loop: a removed container is brought back without polling', async () => {
    r = await rig();
    const t = releaseTarget('c1', [['api']]);
    addImages(r.engine, t);
    r.reconciler.start(t);
    await r.reconciler.whenSettled();
    const [first] = await containers(r.engine);
    await r.engine.removeContainer(first!.id, { force: true });
    const round = r.reconciler.status().rounds;
    await r.clock.advance(25); // the debounce
    await r.reconciler.whenSettled({ afterRound: round });
    const [again] = await containers(r.engine);
    assert.ok(again !== undefined && again.id !== first!.id && again.state === 'running');
  });

  it('a container the engine keeps refusing to start is replaced by a new one', async () => {
    r = await rig();
    const t = releaseTarget('c1', [['api']]);
    addImages(r.engine, t);
    // As after an engine restart that interrupted a start: `task … already exists`, every time.
    r.engine.failNext('startContainer', 'ENGINE_ERROR', 2);
    r.reconciler.start(t);
    let status = await r.reconciler.whenSettled();
    assert.equal(status.phase, 'blocked');
    assert.equal(status.apps[APP.uuid]?.services['api']?.waitingFor?.kind, 'backoff');
    assert.match(status.apps[APP.uuid]?.services['api']?.error ?? '', /injected ENGINE_ERROR/);
    const [refused] = await containers(r.engine);
    await r.clock.advance(1000);
    status = await r.reconciler.whenSettled({ afterRound: status.rounds });
    await r.clock.advance(2000);
    status = await r.reconciler.whenSettled({ afterRound: status.rounds });
    assert.equal(status.phase, 'converged');
    const [now] = await containers(r.engine);
    assert.equal(now?.state, 'running');
    assert.notEqual(now?.id, refused?.id, 'replaced, not retried forever');
  });
});
