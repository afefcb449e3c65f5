/**
 * Volume clean-up on request (`/v2/cleanup-volumes`), as a plan: volumes bosun manages (supervised
 * label) that no container mounts and no target app uses are removed, for one app or for all.
 *
 * [quirk] balena-supervisor removes *any* unmounted volume here; volumes bosun did not make are never
 * touched.
 */
import type { CurrentState, TargetState } from '../domain/model.js';
import { stepIds } from './ids.js';
import type { Plan, Step } from './steps.js';

const SUPERVISED_LABELS = ['io.balena.supervised', 'io.resin.supervised'];

export interface VolumeCleanup {
  /** Only this app's volumes; undefined: every app's. */
  appId: number | undefined;
  /** Volume names mounted by any container on the engine, bosun's or not. */
  mounted: ReadonlySet<string>;
}

export function planVolumeCleanup(
  cleanup: VolumeCleanup,
  target: TargetState | undefined,
  current: CurrentState,
): Plan {
  const used = new Set(cleanup.mounted);
  for (const c of current.containers) for (const v of c.volumes) used.add(v);
  for (const app of Object.values(target?.apps ?? {}))
    for (const v of Object.values(app.release?.volumes ?? {})) used.add(v.engineName);
  const steps: Step[] = [];
  for (const v of current.volumes) {
    if (!SUPERVISED_LABELS.some((l) => v.labels[l] !== undefined)) continue;
    if (cleanup.appId !== undefined && v.appId !== cleanup.appId) continue;
    if (used.has(v.engineName)) continue;
    steps.push({
      kind: 'removeVolume',
      id: stepIds.removeVolume(v.engineName),
      reason: 'volume clean-up was asked for: no container mounts it and no target app uses it',
      dependsOn: [],
      appUuid: v.appUuid,
      engineName: v.engineName,
    });
  }
  return { steps, blockers: [] };
}
