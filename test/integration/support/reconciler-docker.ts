/**
 * A reconciler on the real Docker engine for tests and the benchmark: the real DockerEngine, planner,
 * SQLite store and lock files, scoped by a unique owner label so it never sees (or removes) anything
 * another test made on the shared engine. Targets use the offline busybox test image; every service is a
 * shell that exits at once on SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostUpdateLocks } from '../../../src/device/locks.js';
import type { TargetState, UpdateStrategy } from '../../../src/domain/model.js';
import { DockerEngine } from '../../../src/engine/docker-engine.js';
import type { Reconciler } from '../../../src/reconciler/reconciler.js';
import type { ReconcilerOptions } from '../../../src/reconciler/reconciler-options.js';
import type { StepListener } from '../../../src/reconciler/rounds.js';
import { createReconciler } from '../../../src/reconciler/wiring.js';
import { systemClock } from '../../../src/shared/clock.js';
import { createLogger, silentLogger, type Logger } from '../../../src/shared/logger.js';
import { openStore } from '../../../src/store/open-store.js';
import type { Store } from '../../../src/store/ports.js';
import { cleanupByLabel, DOCKER_SOCKET, TEST_LABEL, uniquePrefix } from '../../support/docker.js';
import { TEST_IMAGES } from '../../support/images.js';
import { app, network, release, volume } from '../../support/planner-builders.js';
import { labelled } from '../../unit/reconciler/support/targets.js';

/** Exits 0 on SIGTERM at once (sleep runs in the background so the trap fires immediately). */
export const SERVICE_CMD = [
  'sh',
  '-c',
  'trap "exit 0" TERM; while true; do sleep 1 & wait $!; done',
];

export interface DockerRig {
  prefix: string;
  uuid: string;
  appId: number;
  dir: string;
  lockRoot: string;
  engine: DockerEngine;
  store: Store;
  locks: HostUpdateLocks;
  reconciler: Reconciler;
  logger: Logger;
  close(): Promise<void>;
}

export async function dockerRig(
  area: string,
  options: Partial<ReconcilerOptions> = {},
  registries: Record<string, { username: string; password: string }> = {},
  stepListener?: StepListener,
): Promise<DockerRig> {
  const prefix = uniquePrefix(area);
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  const level = process.env['BOSUN_TEST_LOG'];
  const logger =
    level === 'debug' || level === 'info'
      ? createLogger({ level, destination: process.stderr })
      : silentLogger();
  const engine = new DockerEngine({ socketPath: DOCKER_SOCKET, logger, clock: systemClock });
  const store = await openStore({ path: join(dir, 'db.sqlite'), logger });
  const lockRoot = join(dir, 'locks');
  const locks = new HostUpdateLocks({ root: lockRoot, logger });
  const { reconciler } = createReconciler({
    engine,
    store,
    locks,
    clock: systemClock,
    logger,
    // Local mode keeps images: the test images are shared with other tests and must never be cleaned up.
    settings: () => ({ lockOverride: false, localMode: true }),
    registryCredentials: () => ({ registries }),
    scopeLabels: [`${TEST_LABEL}=${prefix}`],
    ...(stepListener === undefined ? {} : { stepListener }),
    options: { lockPollMs: 200, backoff: { baseMs: 200, capMs: 2000 }, ...options },
  });
  const rig: DockerRig = {
    prefix,
    uuid: randomBytes(16).toString('hex'),
    appId: 10_000 + (randomBytes(2).readUInt16BE() % 50_000),
    dir,
    lockRoot,
    engine,
    store,
    locks,
    reconciler,
    logger,
    close: async () => {
      await reconciler.stop();
      await cleanupByLabel(prefix);
      await engine.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return rig;
}

export interface DockerService {
  name: string;
  env?: Record<string, string>;
  strategy?: UpdateStrategy;
  /** Mount the app's `data` volume at /data. */
  data?: boolean;
  /** Shell run before the loop (e.g. to signal hand-over complete). */
  init?: string;
  image?: string;
}

/** One app with these services, a `default` network and a `data` volume, scoped to the rig. */
export function dockerTarget(
  rig: DockerRig,
  commit: string,
  services: DockerService[],
  releaseId = 1,
): TargetState {
  const identity = { uuid: rig.uuid, appId: rig.appId };
  const rel = { app: identity, commit, releaseId };
  const scope = { [TEST_LABEL]: rig.prefix };
  const net = network(identity, 'default');
  net.createSpec.Labels = {
    ...net.createSpec.Labels,
    'io.balena.app-id': String(rig.appId),
    ...scope,
  };
  const vol = volume(identity, 'data');
  vol.createSpec.Labels = {
    'io.balena.supervised': 'true',
    'io.balena.app-uuid': rig.uuid,
    ...scope,
  };
  const targets = services.map((s) => {
    const env = Object.entries(s.env ?? {}).map(([k, v]) => `${k}=${v}`);
    const st = labelled(rel, s.name, {
      image: s.image ?? TEST_IMAGES.busybox,
      updateStrategy: s.strategy ?? 'download-then-kill',
      configHash: `cfg-${JSON.stringify([env, s.init ?? '', s.data ?? false])}`,
      volumes: s.data === true ? ['data'] : [],
      handoverTimeoutMs: 30_000,
      stopTimeoutSec: 5,
    });
    const lockDir = `${rig.lockRoot}/services/${rig.appId}/${s.name}`;
    const cmd = s.init === undefined ? SERVICE_CMD : ['sh', '-c', `${s.init}; ${SERVICE_CMD[2]}`];
    st.createSpec = {
      ...st.createSpec,
      Image: st.image,
      Cmd: cmd,
      Env: env,
      Labels: { ...st.createSpec.Labels, ...scope, 'io.balena.update.strategy': st.updateStrategy },
      StopTimeout: 5,
      HostConfig: {
        ...st.createSpec.HostConfig,
        Binds: [
          `${lockDir}:/tmp/balena`,
          `${lockDir}:/tmp/resin`,
          ...(s.data === true ? [`${vol.engineName}:/data`] : []),
        ],
      },
      NetworkingConfig: { EndpointsConfig: { [net.engineName]: { Aliases: [s.name] } } },
    };
    return st;
  });
  return {
    name: 'device',
    config: {},
    apps: {
      [rig.uuid]: app(
        identity,
        release(rel, { services: targets, networks: [net], volumes: [vol] }),
      ),
    },
  };
}
