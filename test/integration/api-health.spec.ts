/**
 * /v1/healthy sees a stuck agent (issue 8): a round that makes no progress past the bound fails it with
 * the reason (download progress counts as progress), and so does a database file deleted or replaced
 * under the running agent. Real Agent, real Reconciler (planner, executor) over the FakeEngine whose
 * container listing can be made to hang (as a FIFO lock file or a starved socket pool hung observation),
 * a real SQLite store and real HTTP. Time for the bound is moved by a skewed clock, never waited for.
 */
import assert from 'node:assert/strict';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../../src/agent/agent.js';
import { agentHealthChecks } from '../../src/agent/health-checks.js';
import { HostUpdateLocks } from '../../src/device/locks.js';
import type { EngineAdapter } from '../../src/engine/port.js';
import { FakeEngine } from '../support/fake-engine/fake-engine.js';
import type { DownloadTracker } from '../../src/executor/downloads.js';
import type { Reconciler } from '../../src/reconciler/reconciler.js';
import { createReconciler } from '../../src/reconciler/wiring.js';
import { systemClock, type Clock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/ports.js';
import { releaseTarget } from '../unit/reconciler/support/targets.js';
import { listenApi, MemoryDevice, RecordingHost, testAgentSettings } from './api-harness.js';

const BOUND_MS = 60_000;

describe('/v1/healthy sees a stuck round and a lost database', function () {
  this.timeout(30_000);
  let dir: string;
  let dbPath: string;
  let store: Store;
  let reconciler: Reconciler;
  let downloads: DownloadTracker;
  let server: Server;
  let url: string;
  let skew = 0;
  let gate: { promise: Promise<void>; release: () => void } | undefined;

  const clock: Clock = {
    now: () => Date.now() + skew,
    sleep: (ms, signal) => systemClock.sleep(ms, signal),
  };

  beforeEach(async () => {
    skew = 0;
    gate = undefined;
    dir = await mkdtemp(join(tmpdir(), 'bosun-test-health-'));
    dbPath = join(dir, 'db.sqlite');
    const logger = silentLogger();
    const fake = new FakeEngine({ clock: systemClock });
    // Observation lists containers (the list alone, then inspects what changed): while the gate is
    // closed, that request hangs.
    const engine = new Proxy(fake, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (prop !== 'listContainerSummaries' || typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const waiting = gate?.promise ?? Promise.resolve();
          return waiting.then(() => (value as (...a: unknown[]) => unknown).apply(target, args));
        };
      },
    }) as EngineAdapter;
    store = await openStore({ path: dbPath, logger });
    const locks = new HostUpdateLocks({ root: join(dir, 'locks'), logger });
    ({ reconciler, downloads } = createReconciler({ engine, store, locks, clock, logger }));
    const agent = new Agent({
      version: '0.1.0',
      logger,
      clock,
      settings: () => testAgentSettings({ localMode: true }),
      reconciler,
      store,
      engine,
      host: new RecordingHost(),
      device: new MemoryDevice(),
      healthChecks: agentHealthChecks({
        reconciler,
        store,
        now: () => clock.now(),
        stuckRoundMs: BOUND_MS,
      }),
    });
    ({ server, url } = await listenApi(agent, { logger }));
    const t = releaseTarget('c1', [['main']]);
    for (const a of Object.values(t.apps))
      for (const s of Object.values(a.release?.services ?? {})) fake.registry.add(s.image);
    reconciler.start(t);
    assert.equal((await reconciler.whenSettled()).phase, 'converged');
  });

  afterEach(async () => {
    gate?.release();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await reconciler.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function healthy(): Promise<{ status: number; reasons: string[] }> {
    const res = await fetch(`${url}/v1/healthy`);
    const text = await res.text();
    return {
      status: res.status,
      reasons: res.status === 200 ? [] : (JSON.parse(text) as { reasons: string[] }).reasons,
    };
  }

  async function until(what: string, predicate: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !predicate(); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(predicate(), what);
  }

  it('a round stuck past the bound fails /v1/healthy with the reason; download progress counts as progress', async () => {
    assert.deepEqual(await healthy(), { status: 200, reasons: [] });
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    gate = { promise, release };
    reconciler.triggerApply({ force: true });
    await until('the round starts', () => reconciler.snapshot().status.phase === 'applying');

    // Stuck, but within the bound: still healthy (a slow step is not a stuck one).
    skew = BOUND_MS - 5_000;
    assert.equal((await healthy()).status, 200);

    skew = BOUND_MS + 5_000;
    const stuck = await healthy();
    assert.equal(stuck.status, 500);
    assert.equal(stuck.reasons.length, 1, stuck.reasons.join('; '));
    assert.match(stuck.reasons[0]!, /^round-progress: .*no progress for \d+ s \(bound 60 s\)/);

    // A download moving counts as progress: healthy again, until it too goes quiet past the bound.
    downloads.start('registry.test/some-image:1');
    skew += BOUND_MS + 5_000;
    downloads.progress('registry.test/some-image:1', 40);
    assert.equal((await healthy()).status, 200);
    skew += BOUND_MS + 5_000;
    assert.equal((await healthy()).status, 500);

    downloads.finish('registry.test/some-image:1');
    gate.release();
    await reconciler.whenSettled();
    assert.equal((await healthy()).status, 200, 'a finished round is healthy again');
  });

  it('a database deleted under the running agent fails /v1/healthy, naming the file', async () => {
    assert.equal((await healthy()).status, 200);
    rmSync(dbPath);
    const r = await healthy();
    assert.equal(r.status, 500);
    assert.ok(
      r.reasons.some(
        (x) => x.startsWith('database-file: ') && x.includes(dbPath) && /deleted/.test(x),
      ),
      r.reasons.join('; '),
    );
  });

  it('a database replaced under the running agent fails /v1/healthy', async () => {
    writeFileSync(`${dbPath}.new`, 'another file');
    renameSync(`${dbPath}.new`, dbPath);
    const r = await healthy();
    assert.equal(r.status, 500);
    assert.ok(
      r.reasons.some((x) => x.startsWith('database-file: ') && /replaced/.test(x)),
      r.reasons.join('; '),
    );
  });
});
