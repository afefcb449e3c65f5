/**
 * Builds a Reconciler from the concrete ports main.ts has (engine, store, lock adapter, config
 * readers), so main.ts and the tests wire it the same way. The store is reached through its port
 * interfaces only (type imports), never through SQLite.
 */
import type { TargetState } from '../domain/model.js';
import type { EngineAdapter } from '../engine/port.js';
import { DownloadTracker } from '../executor/downloads.js';
import type { CommitStore, LockPort, PulledImageStore } from '../executor/ports.js';
import { RegistryAuthResolver, type RegistryCredentials } from '../executor/registry-auth.js';
import { StepRunner } from '../executor/step-runner.js';
import { plan as defaultPlan } from '../planner/index.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { CommitRepository, ImageRepository } from '../store/ports.js';
import { Observer, type LockReader } from './observe.js';
import type { ReleaseChecks } from './release-checks.js';
import type { RoundObserver } from './round-observer.js';
import { StorageObserver } from './storage-observer.js';
import { Reconciler } from './reconciler.js';
import type { ReconcilerOptions } from './reconciler-options.js';
import type { PlanFn, ReconcileSettings, StepListener } from './rounds.js';

export interface ReconcilerWiring {
  engine: EngineAdapter;
  store: { commits: CommitRepository; images: ImageRepository };
  /** The host lock adapter (device/locks.ts HostUpdateLocks). */
  locks: LockPort & LockReader;
  clock: Clock;
  logger: Logger;
  loadTarget?: () => Promise<TargetState | undefined>;
  registryCredentials?: () => RegistryCredentials;
  settings?: () => ReconcileSettings;
  plan?: PlanFn;
  options?: Partial<ReconcilerOptions>;
  /** See ObserverDeps.scopeLabels (tests on a shared engine). */
  scopeLabels?: readonly string[];
  roundObserver?: RoundObserver;
  /** Told the bytes of each successful pull (metrics). */
  onImageBytes?: (bytes: number) => void;
  stepListener?: StepListener;
  /** Told each image the agent pulled, once recorded (e.g. for a system line). */
  onImagePulled?: (name: string, engineId: string) => void;
  /** Disk preflight settings; without them there is no preflight. */
  storage?: {
    reserveBytes: () => number;
    dataRootPath: string | undefined;
  };
  /** Health-gated rollback (rollback/wire-rollback.ts). */
  releaseChecks?: ReleaseChecks;
}

export function createReconciler(w: ReconcilerWiring): {
  reconciler: Reconciler;
  downloads: DownloadTracker;
} {
  const downloads = new DownloadTracker();
  const commits = commitStore(w.store.commits);
  const stored = pulledImageStore(w.store.images);
  const onPulled = w.onImagePulled;
  const images: PulledImageStore =
    onPulled === undefined
      ? stored
      : {
          ...stored,
          record: async (image) => {
            await stored.record(image);
            onPulled(image.name, image.engineId);
          },
        };
  const auth = new RegistryAuthResolver(w.registryCredentials ?? (() => ({})));
  const runner = new StepRunner({
    engine: w.engine,
    locks: w.locks,
    commits,
    images,
    auth,
    downloads,
    logger: w.logger.child({ component: 'executor' }),
    ...(w.onImageBytes === undefined ? {} : { onImagePulled: w.onImageBytes }),
  });
  const observer = new Observer({
    engine: w.engine,
    locks: w.locks,
    downloads,
    commits,
    logger: w.logger,
    clock: w.clock,
    ...(w.scopeLabels === undefined ? {} : { scopeLabels: w.scopeLabels }),
    ...(w.options?.supervisorNetwork === undefined
      ? {}
      : { supervisorNetwork: w.options.supervisorNetwork.name }),
  });
  const reconciler = new Reconciler(
    {
      engine: w.engine,
      observer,
      plan: w.plan ?? defaultPlan,
      runner,
      locks: w.locks,
      images,
      downloads,
      clock: w.clock,
      logger: w.logger,
      settings: w.settings ?? (() => ({ lockOverride: false, localMode: false })),
      ...(w.loadTarget === undefined ? {} : { loadTarget: w.loadTarget }),
      ...(w.roundObserver === undefined ? {} : { roundObserver: w.roundObserver }),
      ...(w.stepListener === undefined ? {} : { stepListener: w.stepListener }),
      ...(w.storage === undefined
        ? {}
        : {
            storage: new StorageObserver({
              engine: w.engine,
              authFor: (image) => auth.authFor(image),
              clock: w.clock,
              logger: w.logger.child({ component: 'storage' }),
              reserveBytes: w.storage.reserveBytes,
              dataRootPath: w.storage.dataRootPath,
            }),
          }),
      ...(w.releaseChecks === undefined ? {} : { releaseChecks: w.releaseChecks }),
    },
    w.options,
  );
  return { reconciler, downloads };
}

export function commitStore(commits: CommitRepository): CommitStore {
  return {
    getCommits: () => commits.all(),
    setCommit: (appUuid, commit) => commits.set(appUuid, commit),
  };
}

export function pulledImageStore(images: ImageRepository): PulledImageStore {
  return {
    record: (image) => images.record(image),
    list: async () => (await images.list()).map((i) => ({ name: i.name, engineId: i.engineId })),
    forget: async (name, engineId) => {
      for (const record of await images.list()) {
        if (record.name === name || record.engineId === engineId) await images.remove(record);
      }
    },
  };
}
