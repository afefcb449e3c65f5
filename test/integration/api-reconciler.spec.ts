/**
 * The API with nothing recorded: real Agent, real Reconciler (real planner and executor) over the
 * FakeEngine (which passes the engine contract suite), a real SQLite store and real lock files. Checks
 * that actions really happen: restart-service recreates only that container, stop/start, 423 on a lock.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../../src/agent/agent.js';
import { HostUpdateLocks } from '../../src/device/locks.js';
import { FakeEngine } from '../support/fake-engine/fake-engine.js';
import type { Reconciler } from '../../src/reconciler/reconciler.js';
import { createReconciler } from '../../src/reconciler/wiring.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/ports.js';
import { APP, releaseTarget } from '../unit/reconciler/support/targets.js';
import { listenApi, MemoryDevice, RecordingHost, testAgentSettings } from './api-harness.js';

describe('local API driving the real reconciler', function () {
  let dir: string;
  let store: Store;
  let engine: FakeEngine;
  let reconciler: Reconciler;
  let server: Server;
  let url: string;
  let key: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bosun-test-api-rec-'));
    const logger = silentLogger();
    engine = new FakeEngine({ clock: systemClock });
    store = await openStore({ path: join(dir, 'db.sqlite'), logger });
    const locks = new HostUpdateLocks({ root: join(dir, 'locks'), logger });
    ({ reconciler } = createReconciler({
      engine,
      store,
      locks,
      clock: systemClock,
      logger,
      options: { backoff: { baseMs: 50, capMs: 200, jitter: 0 }, lockPollMs: 50 },
    }));
    const agent = new Agent({
      version: '0.1.0',
      logger,
      clock: systemClock,
      settings: () => testAgentSettings({ localMode: true }),
      reconciler,
      store,
      engine,
      host: new RecordingHost(),
      device: new MemoryDevice(),
    });
    ({ server, url } = await listenApi(agent, { logger }));
    key = await store.apiKeys.globalKey();
    const t = releaseTarget('c1', [['main'], ['side']]);
    for (const a of Object.values(t.apps))
      for (const s of Object.values(a.release?.services ?? {})) engine.registry.add(s.image);
    reconciler.start(t);
    assert.equal((await reconciler.whenSettled()).phase, 'converged');
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await reconciler.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function status(): Promise<{
    appState: string;
    containers: Array<{ serviceName: string; containerId: string; status: string }>;
  }> {
    const res = await fetch(`${url}/v2/state/status`);
    assert.equal(res.status, 200);
    return (await res.json()) as never;
  }

  async function post(path: string, body: unknown): Promise<Response> {
    return fetch(`${url}${path}?apikey=${key}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  const idOf = (s: Awaited<ReturnType<typeof status>>, name: string): string | undefined =>
    s.containers.find((c) => c.serviceName === name)?.containerId;

  it('restart-service recreates only that service, and status says applied again', async () => {
    const before = await status();
    assert.equal(before.appState, 'applied');
    assert.equal(before.containers.length, 2);
    const res = await post(`/v2/applications/${APP.appId}/restart-service`, {
      serviceName: 'main',
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(await res.text(), 'OK');
    await reconciler.whenSettled();
    const after = await status();
    assert.notEqual(idOf(after, 'main'), idOf(before, 'main'));
    assert.equal(idOf(after, 'side'), idOf(before, 'side'));
    assert.equal(after.appState, 'applied');
  });

  it('stop-service stops the container and it stays stopped; start-service runs it again', async () => {
    assert.equal(
      (await post(`/v2/applications/${APP.appId}/stop-service`, { serviceName: 'side' })).status,
      200,
    );
    await reconciler.whenSettled();
    const stopped = (await engine.listContainers()).find(
      (c) => c.labels['io.balena.service-name'] === 'side',
    );
    assert.notEqual(stopped?.state, 'running');
    assert.equal(
      (await post(`/v2/applications/${APP.appId}/start-service`, { serviceName: 'side' })).status,
      200,
    );
    await reconciler.whenSettled();
    const started = (await engine.listContainers()).find(
      (c) => c.labels['io.balena.service-name'] === 'side',
    );
    assert.equal(started?.state, 'running');
  });

  it('a user update lock makes restart answer 423 and leaves the container alone; force goes through', async () => {
    const before = idOf(await status(), 'main');
    const lockDir = join(dir, 'locks', 'services', String(APP.appId), 'main');
    await mkdir(lockDir, { recursive: true });
    await writeFile(join(lockDir, 'updates.lock'), '');
    const res = await post(`/v2/applications/${APP.appId}/restart-service`, {
      serviceName: 'main',
    });
    assert.equal(res.status, 423, await res.clone().text());
    assert.equal(idOf(await status(), 'main'), before);
    const forced = await post(`/v2/applications/${APP.appId}/restart-service`, {
      serviceName: 'main',
      force: true,
    });
    assert.equal(forced.status, 200, await forced.clone().text());
    await reconciler.whenSettled();
    assert.notEqual(idOf(await status(), 'main'), before);
  });
});
