/**
 * The agent side of bench/api.ts: the real API, Agent, Reconciler (planner + executor), SQLite store and
 * Docker engine, running 10 busybox services; "apply" flips the release between two image variants
 * (every container recreated) until told to stop. Everything it creates carries a unique owner label,
 * the reconciler only sees what carries it, and it is all removed at the end.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../src/agent/agent.js';
import { HostUpdateLocks } from '../src/device/locks.js';
import type { TargetState } from '../src/domain/model.js';
import { DockerEngine } from '../src/engine/docker-engine.js';
import { createReconciler } from '../src/reconciler/wiring.js';
import { systemClock } from '../src/shared/clock.js';
import { silentLogger } from '../src/shared/logger.js';
import { openStore } from '../src/store/open-store.js';
import {
  listenApi,
  MemoryDevice,
  RecordingHost,
  testAgentSettings,
} from '../test/integration/api-harness.js';
import { TEST_LABEL, testDocker, uniquePrefix } from '../test/support/docker.js';
import { TEST_IMAGES } from '../test/support/images.js';
import {
  app,
  network,
  release,
  target,
  type ReleaseIdentity,
} from '../test/support/planner-builders.js';
import { labelled } from '../test/unit/reconciler/support/targets.js';

export interface RealDevice {
  url: string;
  key: string;
  startApplying(): void;
  /** Resolves with how many releases were fully applied while applying. */
  stopApplying(): Promise<number>;
  close(): Promise<void>;
}

export async function startRealDevice(services = 10): Promise<RealDevice> {
  const prefix = uniquePrefix('apibench');
  const owner = `${TEST_LABEL}=${prefix}`;
  const appIdentity = {
    uuid: prefix.replace(/-/g, ''),
    appId: 800_000 + Math.floor(Math.random() * 99_999),
  };
  const targetFor = (commit: string, releaseId: number, image: string): TargetState => {
    const rel: ReleaseIdentity = { app: appIdentity, commit, releaseId };
    const list = Array.from({ length: services }, (_, i) => {
      const s = labelled(rel, `svc${i}`, {
        image,
        serviceId: i + 1,
        imageId: i + 1 + releaseId * 100,
        stopTimeoutSec: 2,
      });
      s.createSpec.Labels[TEST_LABEL] = prefix;
      // Exits at once on SIGTERM, so a recreate is not a 10 s stop timeout.
      s.createSpec.Cmd = ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'];
      return s;
    });
    const net = network(appIdentity, 'default');
    net.createSpec.Labels[TEST_LABEL] = prefix;
    return target(app(appIdentity, release(rel, { services: list, networks: [net] }), 'local'));
  };
  // Container names embed the commit: a unique one keeps concurrent runs on the shared engine apart.
  const t1 = targetFor(`c1x${appIdentity.appId}`, 1, TEST_IMAGES.busybox);
  const t2 = targetFor(`c2x${appIdentity.appId}`, 2, TEST_IMAGES.busybox2);

  const dir = await mkdtemp(join(tmpdir(), 'bosun-test-apibench-'));
  const logger = silentLogger();
  const store = await openStore({ path: join(dir, 'db.sqlite'), logger });
  const engine = new DockerEngine({ logger, clock: systemClock });
  const locks = new HostUpdateLocks({ root: join(dir, 'locks'), logger });
  const { reconciler } = createReconciler({
    engine,
    store,
    locks,
    clock: systemClock,
    logger,
    scopeLabels: [owner],
    // Local mode keeps images: the shared test images must never be cleaned up by a benchmark.
    settings: () => ({ lockOverride: false, localMode: true }),
  });
  const agent = new Agent({
    version: '0.1.0',
    logger,
    clock: systemClock,
    settings: () => testAgentSettings({ deviceName: 'bench' }),
    reconciler,
    store,
    engine,
    host: new RecordingHost(),
    device: new MemoryDevice(),
  });
  const { server, url } = await listenApi(agent, { logger });
  reconciler.start(t1);
  const settled = await reconciler.whenSettled();
  if (settled.phase !== 'converged')
    throw new Error(`device did not converge: ${settled.phase} ${settled.lastError ?? ''}`);

  let flipping: Promise<void> | undefined;
  let stop = false;
  let applied = 0;
  return {
    url,
    key: await store.apiKeys.globalKey(),
    startApplying: () => {
      stop = false;
      flipping = (async () => {
        let next = t2;
        while (!stop) {
          reconciler.setTarget(next);
          await reconciler.whenSettled();
          applied++;
          next = next === t2 ? t1 : t2;
        }
      })();
    },
    stopApplying: async () => {
      stop = true;
      await flipping;
      const count = applied;
      reconciler.setTarget(t1);
      await reconciler.whenSettled();
      return count;
    },
    close: async () => {
      reconciler.setTarget({ ...t1, apps: {} });
      await reconciler.whenSettled();
      await reconciler.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await engine.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
      // Whatever an interrupted apply left behind, by our owner label only.
      const docker = testDocker();
      for (const c of await docker.listContainers({ all: true, filters: { label: [owner] } }))
        await docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined);
      for (const n of await docker.listNetworks({ filters: { label: [owner] } }))
        await docker
          .getNetwork(n.Id)
          .remove()
          .catch(() => undefined);
    },
  };
}
