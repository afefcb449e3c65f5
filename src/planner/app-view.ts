/**
 * The observed state sliced per app. Containers and networks carry their app uuid; volumes may only
 * carry an app id (older agents), which is mapped to a uuid through the target or the app's other
 * resources. A volume that cannot be attributed is left alone: we never remove what we cannot place.
 * Every list is sorted by a stable key so that the input order never changes the plan.
 */
import type {
  ContainerState,
  CurrentState,
  NetworkState,
  TargetState,
  VolumeState,
} from '../domain/model.js';

export interface AppCurrent {
  uuid: string;
  appId: number | undefined;
  containers: ContainerState[];
  networks: NetworkState[];
  volumes: VolumeState[];
}

export function byKey<T>(key: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };
}

export function groupByApp(target: TargetState, current: CurrentState): Map<string, AppCurrent> {
  const apps = new Map<string, AppCurrent>();
  const uuidByAppId = new Map<number, string>();
  const slot = (uuid: string, appId: number | undefined): AppCurrent => {
    let app = apps.get(uuid);
    if (!app) {
      app = { uuid, appId: undefined, containers: [], networks: [], volumes: [] };
      apps.set(uuid, app);
    }
    if (app.appId === undefined && appId !== undefined) app.appId = appId;
    return app;
  };
  for (const app of Object.values(target.apps)) uuidByAppId.set(app.appId, app.uuid);

  const containers = [...current.containers].sort(byKey((c) => c.id));
  for (const c of containers) {
    slot(c.appUuid, c.appId).containers.push(c);
    if (!uuidByAppId.has(c.appId)) uuidByAppId.set(c.appId, c.appUuid);
  }
  // Networks another agent made may carry no app uuid (balena-supervisor v19 labels only the app id,
  // and names them `<appUuid>_<name>`, which reads as a legacy `<appId>_<name>` when the uuid is
  // numeric, as in local mode): attribute them by name, as balena-supervisor does, then by app id.
  const uuidByNetworkName = new Map<string, string>();
  for (const app of Object.values(target.apps))
    for (const network of Object.values(app.release?.networks ?? {}))
      uuidByNetworkName.set(network.engineName, app.uuid);
  const networks = [...current.networks].sort(byKey((n) => `${n.engineName}\u0000${n.id}`));
  for (const n of networks) {
    const uuid =
      n.appUuid !== ''
        ? n.appUuid
        : (uuidByNetworkName.get(n.engineName) ??
          (n.appId === undefined ? undefined : uuidByAppId.get(n.appId)) ??
          '');
    slot(uuid, n.appId).networks.push(n);
    if (n.appId !== undefined && !uuidByAppId.has(n.appId)) uuidByAppId.set(n.appId, uuid);
  }
  const volumes = [...current.volumes].sort(byKey((v) => v.engineName));
  for (const v of volumes) {
    const uuid = v.appUuid ?? uuidByAppId.get(v.appId);
    if (uuid !== undefined) slot(uuid, v.appId).volumes.push(v);
  }
  for (const app of Object.values(target.apps)) {
    const existing = apps.get(app.uuid);
    if (existing) existing.appId = app.appId;
  }
  return apps;
}

/** Running, or about to run again: a stop is needed before removal and an update lock guards it. */
export function isActive(c: ContainerState): boolean {
  return c.status === 'running' || c.status === 'restarting' || c.status === 'paused';
}

/** Newest first (by creation time, then id so that ties do not depend on input order). */
export function newestFirst(a: ContainerState, b: ContainerState): number {
  const ta = timeOf(a.createdAt);
  const tb = timeOf(b.createdAt);
  if (ta !== tb) return ta < tb ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** Epoch ms of an engine timestamp; unparsable ones sort as the oldest. */
export function timeOf(iso: string | undefined): number {
  const t = iso === undefined ? Number.NaN : Date.parse(iso);
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}
