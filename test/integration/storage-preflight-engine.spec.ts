/**
 * Disk preflight on a real engine whose data root is a small filesystem made here: a second dockerd
 * (scripts/private-engine.sh) on a 300 MB tmpfs, fed from the local registry. A ballast file on the same
 * tmpfs sets the free space. A release bigger than the room waits with `insufficientStorage` before any
 * byte is pulled (no pull event, no image, the free space unchanged) and applies once the ballast is
 * gone; with delete-then-download the old image is removed first and the release fits where
 * download-then-kill is blocked. The private engine, its bridge and the tmpfs go even when a test fails.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../../src/agent/agent.js';
import { DashboardSource } from '../../src/agent/dashboard-source.js';
import { HostUpdateLocks } from '../../src/device/locks.js';
import type { TargetState, UpdateStrategy } from '../../src/domain/model.js';
import { DockerEngine } from '../../src/engine/docker-engine.js';
import type { EngineEvent } from '../../src/engine/port.js';
import type { ReconcileStatus, ServiceStatus } from '../../src/reconciler/status.js';
import { reclaimableBytes } from '../../src/reconciler/storage-estimate.js';
import type { Reconciler } from '../../src/reconciler/reconciler.js';
import { createReconciler } from '../../src/reconciler/wiring.js';
import { systemClock } from '../../src/shared/clock.js';
import { createLogger, silentLogger } from '../../src/shared/logger.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/ports.js';
import { requireDocker } from '../support/docker.js';
import { TEST_IMAGES } from '../support/images.js';
import { requireRegistries } from '../support/registry.js';
import { listenApi, MemoryDevice, RecordingHost, testAgentSettings } from './api-harness.js';
import { dockerTarget, type DockerRig } from './support/reconciler-docker.js';
import { startTmpfsEngine, type TmpfsEngine } from '../support/tmpfs-engine.js';

const MB = 1_000_000;
const RESERVE = 20 * MB;

interface PrivateRig extends DockerRig {
  mount: string;
  /** Bytes free on the tmpfs now. */
  free(): Promise<number>;
  /** Sizes the ballast so that `bytes` are free on the tmpfs. */
  leaveFree(bytes: number): Promise<void>;
  events: EngineEvent[];
  /** GET on the agent's local API (device-wide key), as JSON. */
  get(path: string): Promise<unknown>;
}

describe('disk preflight on a private engine with a 300 MB data root', function () {
  this.timeout(300_000);
  let tmpfs: TmpfsEngine | undefined;
  let rig: PrivateRig | undefined;

  before(async function () {
    await requireDocker();
    await requireRegistries();
    tmpfs = await startTmpfsEngine({ size: '300m' });
    rig = await privateRig(tmpfs);
  });

  after(async function () {
    // The rig first (it talks to the engine), then the engine and its tmpfs, even if the rig fails.
    await rig?.close().catch((err: unknown) => console.error('rig close:', err));
    await tmpfs?.stop();
  });

  it('blocks a release bigger than the free space before any byte is pulled, and applies it once space is freed', async function () {
    const r = rig as PrivateRig;
    r.reconciler.start(target(r, 'c1', TEST_IMAGES.busybox));
    assert.equal((await r.reconciler.whenSettled()).phase, 'converged');
    const before = await runningImage(r);

    await r.leaveFree(60 * MB);
    const freeBefore = await r.free();
    r.events.length = 0;
    r.reconciler.setTarget(target(r, 'c2', TEST_IMAGES.large));
    const blocked = await settledAfterTarget(r);
    assert.equal(blocked.phase, 'blocked');
    const main = service(blocked, r);
    assert.equal(main.status, 'Insufficient storage');
    assert.equal(blocked.apps[r.uuid]?.updateStatus, 'downloading');
    const why = main.waitingFor;
    assert.ok(why?.kind === 'storage', JSON.stringify(why));
    assert.equal(why.bytesReserved, RESERVE);
    // large:1 is 3 x 12 MiB of random data on the busybox layer the engine already has.
    assert.ok(why.bytesNeeded >= 36 * 2 ** 20, `needs ${why.bytesNeeded}`);
    assert.ok(why.bytesFree < why.bytesNeeded + RESERVE);

    assert.deepEqual(pullsOf(r.events), [], 'no pull started');
    assert.ok(!(await hasImage(r, TEST_IMAGES.large)), 'no image');
    const freeAfter = await r.free();
    assert.ok(
      Math.abs(freeAfter - freeBefore) < 2 * MB,
      `nothing half-downloaded: free ${freeBefore} → ${freeAfter}`,
    );
    assert.equal(await runningImage(r), before, 'release 1 still runs');

    // The same through the local API and the dashboard, in plain words.
    const state = (await r.get('/v2/state/status')) as {
      images: Array<{ name: string; status: string; dockerImageId: string | null }>;
    };
    assert.deepEqual(
      state.images.map((i) => [i.name, i.status, i.dockerImageId]),
      [[TEST_IMAGES.large, 'Insufficient storage', null]],
    );
    const dashboard = (await r.get('/dashboard/state')) as {
      apps: Array<{ waiting?: string; services: Array<{ waiting?: string }> }>;
    };
    const words =
      /not enough disk space to download the release: it needs about \d+ MB, \d+ MB is free and 20 MB is kept free/;
    assert.match(dashboard.apps[0]?.waiting ?? '', words);
    assert.match(dashboard.apps[0]?.services[0]?.waiting ?? '', words);

    await r.leaveFree(250 * MB);
    const applied = await settledAfterTarget(r, 'converged');
    assert.equal(applied.phase, 'converged', applied.lastError);
    assert.equal(await runningImage(r), await imageId(r, TEST_IMAGES.large));
    assert.deepEqual(pullsOf(r.events), [TEST_IMAGES.large]);
  });

  it('with delete-then-download removes the old image first and the release fits where download-then-kill waits', async function () {
    const r = rig as PrivateRig;
    const oldId = await imageId(r, TEST_IMAGES.large);
    assert.ok(oldId !== undefined, 'the previous test left release 2 (large:1) running');

    // How much release 3 needs, as the preflight estimates it, from a first blocked try.
    await r.leaveFree(40 * MB);
    r.reconciler.setTarget(target(r, 'c3', TEST_IMAGES.large2, 'download-then-kill'));
    const first = service(await settledAfterTarget(r), r).waitingFor;
    assert.ok(first?.kind === 'storage', JSON.stringify(first));
    const needed = first.bytesNeeded;

    // Room for release 3 only with the old image gone: free - reserve < needed <= that + freed.
    const freed = (await freedBytes(r))[oldId] ?? 0;
    assert.ok(freed > 30 * MB, `removing large:1 gives back ${freed}`);
    await r.leaveFree(RESERVE + needed - Math.floor(freed / 2));
    r.reconciler.setTarget(target(r, 'c3', TEST_IMAGES.large2, 'download-then-kill'));
    const waits = await settledAfterTarget(r);
    assert.equal(service(waits, r).status, 'Insufficient storage', 'download-then-kill waits');
    assert.equal(await runningImage(r), oldId, 'release 2 still runs');

    r.events.length = 0;
    r.reconciler.setTarget(target(r, 'c3', TEST_IMAGES.large2, 'delete-then-download'));
    const done = await settledAfterTarget(r, 'converged');
    assert.equal(done.phase, 'converged', done.lastError);
    const newId = await imageId(r, TEST_IMAGES.large2);
    assert.equal(await runningImage(r), newId);
    assert.ok(!(await hasImage(r, oldId)), 'the old image is gone');
    const removed = r.events.findIndex(
      (e) => e.type === 'image' && e.action === 'delete' && e.id === oldId,
    );
    const pulled = r.events.findIndex(
      (e) => e.type === 'image' && e.action === 'pull' && e.id === TEST_IMAGES.large2,
    );
    assert.ok(
      removed >= 0 && pulled > removed,
      `old image deleted (${removed}) before the pull (${pulled})`,
    );
  });
});

async function privateRig(tmpfs: TmpfsEngine): Promise<PrivateRig> {
  const socketPath = tmpfs.socket;
  const dir = await mkdtemp(join(tmpdir(), 'bosun-preflight-state-'));
  const logger =
    process.env['BOSUN_TEST_LOG'] === 'info'
      ? createLogger({ level: 'info', destination: process.stderr })
      : silentLogger();
  const engine = new DockerEngine({ socketPath, logger, clock: systemClock });
  const store: Store = await openStore({ path: join(dir, 'db.sqlite'), logger });
  const lockRoot = join(dir, 'locks');
  const locks = new HostUpdateLocks({ root: lockRoot, logger });
  let snapshot = (): ReturnType<Reconciler['snapshot']> => {
    throw new Error('not yet');
  };
  const dashboard = new DashboardSource({
    clock: systemClock,
    snapshot: () => snapshot(),
    logs: () => undefined,
    device: () =>
      Promise.resolve({
        name: 'preflight',
        uuid: 'u1',
        deviceType: 'genericx86-64-ext',
        os: 'Debian',
        version: '0.1.0',
        mode: 'cloud',
        connectivity: 'cloud: not connected',
        ipAddresses: [],
      }),
  });
  const { reconciler } = createReconciler({
    engine,
    store,
    locks,
    clock: systemClock,
    logger,
    roundObserver: dashboard.roundObserver,
    // Not local mode: images this agent pulled on its own engine are its to remove.
    settings: () => ({ lockOverride: false, localMode: false }),
    storage: { reserveBytes: () => RESERVE, dataRootPath: undefined },
    options: { blockedRecheckMs: 300, backoff: { baseMs: 200, capMs: 2000 } },
  });
  snapshot = () => reconciler.snapshot();
  const agent = new Agent({
    version: '0.1.0',
    logger,
    clock: systemClock,
    settings: () => testAgentSettings({ deviceName: 'preflight' }),
    reconciler,
    store,
    engine,
    host: new RecordingHost(),
    device: new MemoryDevice(),
  });
  const { server, url } = await listenApi(agent, {
    logger,
    dashboard: { port: dashboard, assets: { html: '', js: '', css: '' } },
  });
  const key = await store.apiKeys.globalKey();
  const events: EngineEvent[] = [];
  const subscription = engine.events().subscribe((e) => events.push(e));
  return {
    prefix: `bosun-test-preflight-${randomBytes(4).toString('hex')}`,
    uuid: randomBytes(16).toString('hex'),
    appId: 10_000 + (randomBytes(2).readUInt16BE() % 50_000),
    dir,
    lockRoot,
    engine,
    store,
    locks,
    reconciler,
    logger,
    mount: tmpfs.mount,
    events,
    free: () => tmpfs.free(),
    leaveFree: (bytes) => tmpfs.leaveFree(bytes),
    get: async (path) => {
      const res = await fetch(`${url}${path}`, { headers: { Authorization: `Bearer ${key}` } });
      assert.equal(res.status, 200, path);
      return res.json();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      subscription.unsubscribe();
      await reconciler.stop();
      await engine.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function target(
  rig: DockerRig,
  commit: string,
  image: string,
  strategy: UpdateStrategy = 'download-then-kill',
): TargetState {
  const releaseId = Number(commit.slice(1));
  return dockerTarget(rig, commit, [{ name: 'main', image, strategy }], releaseId);
}

/** The reconciler's next settle after the target (or the free space) changed. */
async function settledAfterTarget(
  rig: PrivateRig,
  want?: ReconcileStatus['phase'],
): Promise<ReconcileStatus> {
  // Blocked rounds re-check every 300 ms; wait (bounded) for the phase asked for.
  for (let i = 0; i < 200; i++) {
    const round = rig.reconciler.status().rounds;
    const status = await rig.reconciler.whenSettled({ afterRound: round });
    if (want === undefined || status.phase === want || status.phase === 'failed') return status;
  }
  return rig.reconciler.status();
}

function service(status: ReconcileStatus, rig: DockerRig): ServiceStatus {
  const s = status.apps[rig.uuid]?.services['main'];
  assert.ok(s !== undefined, JSON.stringify(status));
  return s;
}

/** Images the engine says it pulled (each once: a reconnected event stream may repeat an event). */
function pullsOf(events: readonly EngineEvent[]): string[] {
  return [
    ...new Set(events.flatMap((e) => (e.type === 'image' && e.action === 'pull' ? [e.id] : []))),
  ];
}

async function imageId(rig: DockerRig, ref: string): Promise<string | undefined> {
  return (await rig.engine.listImages()).find(
    (i) => i.repoTags.includes(ref) || i.repoDigests.some((d) => d.startsWith(`${ref}@`)),
  )?.id;
}

async function hasImage(rig: DockerRig, refOrId: string): Promise<boolean> {
  return (await rig.engine.listImages()).some(
    (i) => i.id === refOrId || i.repoTags.includes(refOrId),
  );
}

async function runningImage(rig: DockerRig): Promise<string | undefined> {
  const containers = await rig.engine.listContainers({ labels: ['io.balena.supervised'] });
  const running = containers.filter((c) => c.state === 'running');
  assert.equal(running.length, 1, JSON.stringify(running.map((c) => c.name)));
  return running[0]?.imageId;
}

async function freedBytes(rig: DockerRig): Promise<Record<string, number>> {
  const images = await rig.engine.listImages();
  return reclaimableBytes(
    await Promise.all(
      images.map(async (i) => ({
        id: i.id,
        size: i.size,
        layers: await rig.engine.imageLayers(i.id),
      })),
    ),
  );
}
