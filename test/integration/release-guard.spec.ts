/**
 * The release guard on a real SQLite store with a hand-moved clock: a release is watched once applied,
 * confirmed at the end of its window or failed inside it; a failed release is served as the last
 * confirmed one (no download: its images stay protected) until a different target arrives; a guard
 * re-opened on the same file (an agent restarted after SIGKILL) resumes the same decisions.
 */
import assert from 'node:assert/strict';
import type { ContainerState, CurrentState, TargetState } from '../../src/domain/model.js';
import { ReleaseGuard } from '../../src/reconciler/rollback/release-guard.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { JsonObject, StoredTarget, TargetOrigin } from '../../src/store/ports.js';
import {
  app,
  APP_A,
  containerFor,
  emptyCurrent,
  release,
  service,
  target,
} from '../support/planner-builders.js';
import { openTempStore, type TempStore } from '../support/store-temp-store.js';
import { ManualClock, flush } from '../unit/reconciler/support/manual-clock.js';

const CLOUD: TargetOrigin = { kind: 'cloud', endpoint: 'https://api.test' };
const WINDOW = 10_000;

/** A raw v3 app document (what the store keeps), and the normalised target the planner gets for it. */
function releaseN(n: number, env = '') {
  const commit = `c${n}`;
  const rel = { app: APP_A, commit, releaseId: n };
  const services = [service(rel, 'main', { image: `registry.test/main:${n}` })];
  const doc: JsonObject = {
    id: APP_A.appId,
    releases: {
      [commit]: { id: n, services: { main: { image: `registry.test/main:${n}`, env } } },
    },
  };
  const normalised: TargetState = target(app(APP_A, release(rel, { services })));
  const running = (o: Partial<ContainerState> = {}): CurrentState => ({
    ...emptyCurrent(),
    containers: services.map((s) => containerFor(APP_A, s, o)),
  });
  return { commit, doc, normalised, running };
}

describe('release guard (SQLite, manual clock)', () => {
  let temp: TempStore;
  let clock: ManualClock;
  let stored: StoredTarget | undefined;
  let reloads: number;
  const announced: string[] = [];
  const plan = { steps: [], blockers: [] };

  const store = (...docs: JsonObject[]) => {
    stored = {
      name: 'device',
      config: { BALENA_SUPERVISOR_UPDATE_ROLLBACK_WINDOW: String(WINDOW) },
      apps: docs.length === 0 ? {} : { [APP_A.uuid]: docs[0]! },
    };
  };

  const open = async (): Promise<ReleaseGuard> => {
    const guard = new ReleaseGuard({
      repository: temp.store.releases,
      loadStored: () => Promise.resolve(stored),
      settingsOf: (config) => ({
        enabled: config['SUPERVISOR_UPDATE_ROLLBACK'] !== 'false',
        windowMs: Number(config['BALENA_SUPERVISOR_UPDATE_ROLLBACK_WINDOW']),
      }),
      announce: (text) => announced.push(text),
      clock,
      logger: silentLogger(),
    });
    await guard.init();
    guard.onReload(() => reloads++);
    return guard;
  };

  /** The app document the planner would get now. */
  const served = async (guard: ReleaseGuard) =>
    JSON.stringify((await guard.load(CLOUD))?.apps[APP_A.uuid]);

  const rows = async () => {
    const s = await temp.store.releases.load();
    return {
      confirmed: s.confirmed.map((r) => r.commit),
      failed: s.failed.map((r) => r.commit),
      watching: s.watching.map((r) => r.commit),
    };
  };

  /** Lets the guard's background writes land (they are chained; a real store answers quickly). */
  const settle = async (guard: ReleaseGuard) => {
    await guard.stop();
    await flush();
  };

  beforeEach(async () => {
    temp = await openTempStore();
    clock = new ManualClock(1_000_000);
    reloads = 0;
    announced.length = 0;
  });
  afterEach(() => temp.dispose());

  /** Release 1 applied and confirmed through its window. */
  const confirmFirst = async (guard: ReleaseGuard) => {
    const r1 = releaseN(1);
    store(r1.doc);
    await guard.load(CLOUD);
    guard.observed(r1.normalised, r1.running(), plan);
    assert.deepEqual(guard.view().get(APP_A.uuid)?.watching?.commit, 'c1');
    await clock.advance(WINDOW);
    assert.equal(reloads, 1, 'the end of the window asks for a round');
    await guard.load(CLOUD);
    guard.observed(r1.normalised, r1.running(), plan);
    await settle(guard);
    assert.deepEqual(await rows(), { confirmed: ['c1'], failed: [], watching: [] });
    return r1;
  };

  it('a healthy release is confirmed at the end of its window, and its images are protected', async () => {
    const guard = await open();
    await confirmFirst(guard);
    assert.deepEqual(guard.protectedImages(), ['registry.test/main:1']);
    assert.ok(
      announced.some((l) => /c1 .*confirmed/.test(l)),
      announced.join('\n'),
    );
  });

  it('not applied yet (nothing runs): no window starts', async () => {
    const guard = await open();
    const r1 = releaseN(1);
    store(r1.doc);
    await guard.load(CLOUD);
    guard.observed(r1.normalised, emptyCurrent(), plan);
    await settle(guard);
    assert.deepEqual(await rows(), { confirmed: [], failed: [], watching: [] });
  });

  it('unhealthy inside the window: failed, rolled back to the confirmed release, not retried until a new target', async () => {
    const guard = await open();
    const r1 = await confirmFirst(guard);
    const r2 = releaseN(2);
    store(r2.doc);
    assert.equal(await served(guard), JSON.stringify(r2.doc));
    guard.observed(r2.normalised, r2.running(), plan);
    await clock.advance(1_000);
    guard.observed(r2.normalised, r2.running({ health: 'unhealthy' }), plan);
    await settle(guard);
    assert.equal(reloads, 2, 'the failure asks for a reload');
    assert.deepEqual(await rows(), { confirmed: ['c1'], failed: ['c2'], watching: [] });
    assert.equal(await served(guard), JSON.stringify(r1.doc), 'release 1 served instead');
    const view = guard.view().get(APP_A.uuid);
    assert.equal(view?.failed?.commit, 'c2');
    assert.equal(view?.failed?.rolledBackTo, 'c1');
    assert.equal(view?.failed?.cause, 'unhealthy');
    assert.deepEqual(guard.protectedImages(), ['registry.test/main:1']);
    assert.ok(announced.some((l) => /c2 .*failed.*unhealthy.*rolling back to release c1/.test(l)));
    // Back on release 1 (confirmed): no new window, and polls of the same target keep it there.
    guard.observed(r1.normalised, r1.running(), plan);
    assert.equal(await served(guard), JSON.stringify(r1.doc));
    assert.equal(guard.view().get(APP_A.uuid)?.watching, undefined);
    // A different target (here only its env changed) is tried: the failure is forgotten.
    const r2b = releaseN(2, 'fixed');
    store(r2b.doc);
    assert.equal(await served(guard), JSON.stringify(r2b.doc));
    await settle(guard);
    assert.deepEqual(await rows(), { confirmed: ['c1'], failed: [], watching: [] });
  });

  it('re-opened mid-window (SIGKILL): the watch resumes with its own deadline and confirms once', async () => {
    const first = await open();
    await confirmFirst(first);
    const r2 = releaseN(2);
    store(r2.doc);
    await first.load(CLOUD);
    first.observed(r2.normalised, r2.running(), plan);
    await settle(first);
    assert.deepEqual(await rows(), { confirmed: ['c1'], failed: [], watching: ['c2'] });

    await clock.advance(4_000);
    const second = await open();
    assert.equal(second.view().get(APP_A.uuid)?.watching?.until, 1_000_000 + WINDOW + 10_000);
    await second.load(CLOUD);
    second.observed(r2.normalised, r2.running(), plan);
    assert.equal((await rows()).confirmed[0], 'c1', 'not before its deadline');
    await clock.advance(6_000);
    second.observed(r2.normalised, r2.running(), plan);
    await settle(second);
    assert.deepEqual(await rows(), { confirmed: ['c2'], failed: [], watching: [] });
    assert.deepEqual(second.protectedImages(), ['registry.test/main:2']);
  });

  it('re-opened after a failure (SIGKILL during the rollback): the rollback target is served at once', async () => {
    const first = await open();
    const r1 = await confirmFirst(first);
    const r2 = releaseN(2);
    store(r2.doc);
    await first.load(CLOUD);
    first.observed(r2.normalised, r2.running({ restartCount: 0 }), plan);
    first.observed(r2.normalised, r2.running({ restartCount: 3 }), plan);
    await settle(first);
    assert.deepEqual(await rows(), { confirmed: ['c1'], failed: ['c2'], watching: [] });
    const second = await open();
    assert.equal(await served(second), JSON.stringify(r1.doc));
    assert.equal(second.view().get(APP_A.uuid)?.failed?.cause, 'crashLoop');
  });

  it('a failed first release has nothing to go back to: it stays, and is not watched again', async () => {
    const guard = await open();
    const r1 = releaseN(1);
    store(r1.doc);
    await guard.load(CLOUD);
    guard.observed(r1.normalised, r1.running({ health: 'unhealthy' }), plan);
    await settle(guard);
    assert.equal(await served(guard), JSON.stringify(r1.doc));
    guard.observed(r1.normalised, r1.running(), plan);
    await settle(guard);
    assert.deepEqual(await rows(), { confirmed: [], failed: ['c1'], watching: [] });
    assert.ok(announced.some((l) => /no earlier release was confirmed/.test(l)));
  });

  it('off (config var) or in local mode: nothing is watched or swapped', async () => {
    const guard = await open();
    const r1 = releaseN(1);
    stored = {
      name: 'device',
      config: { SUPERVISOR_UPDATE_ROLLBACK: 'false' },
      apps: { [APP_A.uuid]: r1.doc },
    };
    await guard.load(CLOUD);
    guard.observed(r1.normalised, r1.running({ health: 'unhealthy' }), plan);
    store(r1.doc);
    await guard.load({ kind: 'local' });
    guard.observed(r1.normalised, r1.running({ health: 'unhealthy' }), plan);
    await settle(guard);
    assert.deepEqual(await rows(), { confirmed: [], failed: [], watching: [] });
  });

  it('an app that leaves the target takes its records (and protected images) with it', async () => {
    const guard = await open();
    await confirmFirst(guard);
    store();
    await guard.load(CLOUD);
    await settle(guard);
    assert.deepEqual(await rows(), { confirmed: [], failed: [], watching: [] });
    assert.deepEqual(guard.protectedImages(), []);
  });
});
