/**
 * plan(target, current, ctx): one round of work towards the target. Pure, synchronous, deterministic:
 * no I/O, no clock (time is ctx.now), no state kept between calls. The reconciler runs the plan, observes
 * again and plans again (level-triggered), so each round only does what is safe from what it sees now,
 * as much of it in parallel as dependsOn allows.
 *
 * User actions are intermediate targets, planned like any other (the reconciler builds them):
 * - restart an app: first the target with the app's release but no services (containers go, networks and
 *   volumes stay), then the real target (containers come back, fresh);
 * - purge an app: first the target without the app and keepVolumes false (containers, networks and
 *   volumes go), then the real target (everything comes back, volumes empty).
 * Intermediate targets should also set keepImages, so that images are not cleaned up in between.
 */
import type { CurrentState, TargetState } from '../domain/model.js';
import { planAppRemoval } from './app-removal.js';
import { planAppUpdate } from './app-update.js';
import { groupByApp } from './app-view.js';
import { applyBackoff } from './backoff.js';
import type { PlanContext } from './context.js';
import { DraftPlan } from './draft.js';
import { cleanupSteps } from './image-cleanup.js';
import { withholdStopsInProgress } from './in-progress.js';
import { applyLocks } from './locks.js';
import { orderBlockers, orderSteps } from './order.js';
import { withholdDangling } from './prune.js';
import { AppScope } from './scope.js';
import { settleSteps } from './settle.js';
import { applyStoragePreflight } from './storage.js';
import type { Plan, Step } from './steps.js';
import { requireSupervisorNetwork } from './supervisor-network.js';
import { applyUpdateWindow, closedUntil } from './update-window.js';
import { observeWorld } from './world.js';

export function plan(target: TargetState, current: CurrentState, ctx: PlanContext): Plan {
  const world = observeWorld(target, current, ctx);
  const groups = groupByApp(target, current);
  const uuids = [...new Set([...Object.keys(target.apps), ...groups.keys()])].sort();
  const all = new DraftPlan();
  const appIds = new Map<string, number | undefined>();
  const windowOpensAt = closedUntil(ctx);

  for (const uuid of uuids) {
    const targetApp = target.apps[uuid];
    const app = groups.get(uuid) ?? {
      uuid,
      appId: targetApp?.appId,
      containers: [],
      networks: [],
      volumes: [],
    };
    const appId = targetApp?.appId ?? app.appId;
    appIds.set(uuid, appId);
    const scope = new AppScope(world, uuid, appId, app, targetApp?.release);
    if (targetApp?.release !== undefined) planAppUpdate(scope, targetApp.release);
    else planAppRemoval(scope, targetApp === undefined && !ctx.keepVolumes);
    withholdStopsInProgress(scope.out, current); // before the locks: no lock for a withheld stop
    applyUpdateWindow(scope, windowOpensAt);
    applyLocks(scope);
    for (const draft of scope.out.drafts.values())
      if (!all.has(draft.step.id)) all.drafts.set(draft.step.id, draft);
    for (const blocker of scope.out.blockers) all.block(blocker);
  }
  applyStoragePreflight(all, world);
  requireSupervisorNetwork(all, current, ctx);
  applyBackoff(all, ctx);
  withholdDangling(all.drafts);

  const finals = new DraftPlan();
  const settle = settleSteps(world, appIds, all.steps(), all.blockers);
  for (const step of [...settle, ...cleanupSteps(world, [...all.steps(), ...settle], all.blockers)])
    finals.add(step);
  applyBackoff(finals, ctx);

  const steps: Step[] = [...all.steps(), ...finals.steps()];
  return {
    steps: orderSteps(steps),
    blockers: orderBlockers([...all.blockers, ...finals.blockers]),
  };
}
