/**
 * User actions as intermediate targets (pure): a restart is "the target without the app's services, then
 * the target"; a purge is "the target without the app, then the target". The reconciler applies them
 * like any target, so locks, ordering and backoff rules hold for actions too.
 */
import type { AppTarget, TargetState } from '../domain/model.js';

function withApp(target: TargetState, uuid: string, app: AppTarget | undefined): TargetState {
  const apps = { ...target.apps };
  if (app === undefined) delete apps[uuid];
  else apps[uuid] = app;
  return { ...target, apps };
}

/** The app keeps its networks and volumes; only its containers go. */
export function withoutAppServices(target: TargetState, uuid: string): TargetState {
  const app = target.apps[uuid];
  if (app?.release === undefined) return target;
  return withApp(target, uuid, { ...app, release: { ...app.release, services: {} } });
}

/** Containers, networks and volumes of the app go. */
export function withoutApp(target: TargetState, uuid: string): TargetState {
  return withApp(target, uuid, undefined);
}

export function withoutService(
  target: TargetState,
  uuid: string,
  serviceName: string,
): TargetState {
  const app = target.apps[uuid];
  if (app?.release === undefined) return target;
  const services = { ...app.release.services };
  delete services[serviceName];
  return withApp(target, uuid, { ...app, release: { ...app.release, services } });
}

export function withServiceRunning(
  target: TargetState,
  uuid: string,
  serviceName: string,
  running: boolean,
): TargetState {
  const app = target.apps[uuid];
  const service = app?.release?.services[serviceName];
  if (app?.release === undefined || service === undefined) return target;
  const services = { ...app.release.services, [serviceName]: { ...service, running } };
  return withApp(target, uuid, { ...app, release: { ...app.release, services } });
}
