/**
 * Static safety checks of one plan against the state it was planned from, on the dependency graph
 * itself (what a parallel executor relies on), not on any particular execution order. Returns the list
 * of violations (empty when the plan is safe).
 */
import type { ContainerState, CurrentState, TargetState } from '../../src/domain/model.js';
import type { Plan, Step } from '../../src/planner/steps.js';

const ACTIVE = new Set(['running', 'restarting', 'paused']);

export function checkPlan(
  t: TargetState,
  c: CurrentState,
  p: Plan,
  force: boolean,
  keepVolumes = false,
): string[] {
  const problems: string[] = [];
  const byId = new Map(p.steps.map((s) => [s.id, s]));
  if (byId.size !== p.steps.length) problems.push('duplicate step ids');
  const ancestorsOf = memoAncestors(byId);
  for (const s of p.steps) {
    for (const dep of s.dependsOn)
      if (!byId.has(dep)) problems.push(`${s.id} depends on missing ${dep}`);
  }
  const containerById = new Map(c.containers.map((x) => [x.id, x]));
  const has = (anc: Set<string>, pred: (s: Step) => boolean): boolean =>
    [...anc].some((id) => {
      const s = byId.get(id);
      return s !== undefined && pred(s);
    });
  const removes = (x: ContainerState) => (s: Step) =>
    s.kind === 'removeContainer' && s.containerId === x.id;

  for (const s of p.steps) {
    const anc = ancestorsOf(s.id);
    if (s.kind === 'removeNetwork' || s.kind === 'removeVolume') {
      for (const x of c.containers) {
        const uses =
          s.kind === 'removeNetwork'
            ? x.networks.includes(s.engineName)
            : x.volumes.includes(s.engineName);
        if (uses && !has(anc, removes(x))) problems.push(`${s.id} while ${x.name} still uses it`);
      }
    }
    if (s.kind === 'removeVolume') {
      // Volumes survive updates: only removing the whole app (not in local mode) removes them.
      const v = c.volumes.find((x) => x.engineName === s.engineName);
      const appGone =
        v !== undefined &&
        !Object.values(t.apps).some((a) => a.uuid === v.appUuid || a.appId === v.appId);
      if (keepVolumes || !appGone)
        problems.push(`${s.id} removes a volume of an app that stays (or volumes are kept)`);
    }
    if (s.kind === 'removeImage') {
      for (const x of c.containers) {
        if (x.engineImageId === s.engineImageId && !has(anc, removes(x)))
          problems.push(`${s.id} while ${x.name} uses it`);
      }
    }
    if (s.kind === 'createContainer') {
      const rel = t.apps[s.appUuid ?? '']?.release;
      const svc = s.service;
      const nets =
        svc.networkMode === 'host'
          ? []
          : svc.networks.map((n) => rel?.networks[n]?.engineName ?? n);
      const vols = svc.volumes.map((v) => rel?.volumes[v]?.engineName ?? v);
      for (const n of nets) {
        const exists =
          c.networks.some((x) => x.engineName === n) &&
          !p.steps.some((x) => x.kind === 'removeNetwork' && x.engineName === n);
        if (!exists && !has(anc, (x) => x.kind === 'createNetwork' && x.network.engineName === n))
          problems.push(`${s.id} before network ${n} exists`);
      }
      for (const v of vols) {
        const exists =
          c.volumes.some((x) => x.engineName === v) &&
          !p.steps.some((x) => x.kind === 'removeVolume' && x.engineName === v);
        if (!exists && !has(anc, (x) => x.kind === 'createVolume' && x.volume.engineName === v))
          problems.push(`${s.id} before volume ${v} exists`);
      }
      const holder = c.containers.find((x) => x.name === svc.containerName);
      if (
        holder !== undefined &&
        !has(
          anc,
          (x) =>
            (x.kind === 'removeContainer' ||
              x.kind === 'renameContainer' ||
              x.kind === 'retireContainer') &&
            x.containerId === holder.id,
        )
      ) {
        problems.push(`${s.id} while ${holder.id} holds the name`);
      }
    }
    if (
      s.kind === 'stopContainer' ||
      s.kind === 'removeContainer' ||
      s.kind === 'renameContainer' ||
      s.kind === 'retireContainer'
    ) {
      const x = containerById.get(s.containerId);
      if (x === undefined) {
        problems.push(`${s.id} on unknown container`);
        continue;
      }
      const userLocked = c.locks.some(
        (l) => l.appId === x.appId && l.serviceName === x.serviceName && l.heldBy === 'user',
      );
      if (userLocked && !force)
        problems.push(`${s.id} touches user-locked ${x.serviceName} without force`);
      const agentHeld =
        !userLocked &&
        c.locks.some(
          (l) => l.appId === x.appId && l.serviceName === x.serviceName && l.heldBy === 'agent',
        );
      const takes = has(
        anc,
        (y) => y.kind === 'takeLock' && y.appId === x.appId && y.services.includes(x.serviceName),
      );
      if ((ACTIVE.has(x.status) || userLocked) && !agentHeld && !takes)
        problems.push(`${s.id} without the update lock of ${x.serviceName}`);
      if (
        s.kind === 'removeContainer' &&
        ACTIVE.has(x.status) &&
        !has(anc, (y) => y.kind === 'stopContainer' && y.containerId === x.id)
      ) {
        problems.push(`${s.id} removes a running container without stopping it`);
      }
    }
    if (s.kind === 'startContainer') {
      const self = containerById.get(s.containerId);
      const createdHere = has(
        anc,
        (y) => y.kind === 'createContainer' && y.service.containerName === s.containerId,
      );
      const appUuid = s.appUuid ?? '';
      for (const x of c.containers) {
        if (
          x.appUuid !== appUuid ||
          x.serviceName !== s.serviceName ||
          x.id === self?.id ||
          x.handoverOld ||
          !ACTIVE.has(x.status)
        )
          continue;
        const goesFirst = has(
          anc,
          (y) =>
            (y.kind === 'stopContainer' || y.kind === 'retireContainer') && y.containerId === x.id,
        );
        if (!goesFirst)
          problems.push(
            `${s.id} while ${x.name} of the same service runs (created here: ${createdHere})`,
          );
      }
    }
  }
  return problems;
}

function memoAncestors(byId: Map<string, Step>): (id: string) => Set<string> {
  const memo = new Map<string, Set<string>>();
  const get = (id: string): Set<string> => {
    const known = memo.get(id);
    if (known) return known;
    const out = new Set<string>();
    memo.set(id, out);
    for (const dep of byId.get(id)?.dependsOn ?? []) {
      out.add(dep);
      for (const a of get(dep)) out.add(a);
    }
    return out;
  };
  return get;
}

/** What a converged device must look like for `t`; returns the differences. */
export function checkConverged(t: TargetState, c: CurrentState): string[] {
  const problems: string[] = [];
  for (const x of c.containers) {
    const svc = t.apps[x.appUuid]?.release?.services[x.serviceName];
    if (svc === undefined) problems.push(`${x.name} left over`);
    if (x.handoverOld) problems.push(`${x.name} is an outgoing hand-over container`);
  }
  for (const a of Object.values(t.apps)) {
    for (const s of Object.values(a.release?.services ?? {})) {
      const mine = c.containers.filter(
        (x) => x.appUuid === a.uuid && x.serviceName === s.serviceName,
      );
      if (mine.length !== 1) {
        problems.push(`${a.uuid}/${s.serviceName} has ${mine.length} containers`);
        continue;
      }
      const x = mine[0] as ContainerState;
      if (x.name !== s.containerName || x.configHash !== s.configHash)
        problems.push(`${x.name} does not match ${s.containerName}`);
      const oneshot = s.createSpec.Labels['test.oneshot'] !== undefined;
      if (s.running && !oneshot && x.status !== 'running')
        problems.push(`${x.name} is ${x.status}, not running`);
      if (!s.running && ACTIVE.has(x.status))
        problems.push(`${x.name} runs but the target says running: false`);
    }
    if (a.release !== undefined && c.commits[a.uuid] !== a.release.commit)
      problems.push(`${a.uuid} commit not recorded`);
  }
  if (c.locks.some((l) => l.heldBy === 'agent')) problems.push('agent still holds locks');
  return problems;
}
