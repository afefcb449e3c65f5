/**
 * Targets for reconciler tests: the planner's builders plus the identity labels normalisation adds
 * (app id/uuid, service id), which the observer needs to recognise the containers it created.
 */
import type { ServiceTarget, TargetState } from '../../../../src/domain/model.js';
import {
  app,
  release,
  service,
  target,
  volume,
  type AppIdentity,
  type ReleaseIdentity,
  type ServiceOptions,
} from '../../../support/planner-builders.js';

export const APP = { uuid: 'a1b2c3d4e5f6', appId: 7 };
export const OTHER_APP = { uuid: 'f6e5d4c3b2a1', appId: 8 };

export function labelled(
  rel: ReleaseIdentity,
  name: string,
  o: ServiceOptions = {},
): ServiceTarget {
  const s = service(rel, name, o);
  s.createSpec.Labels = {
    ...s.createSpec.Labels,
    'io.balena.app-id': String(rel.app.appId),
    'io.balena.app-uuid': rel.app.uuid,
    'io.balena.service-id': String(s.serviceId),
  };
  return s;
}

/** One app, services by name (each with its own image `registry.test/<name>:<commit>` unless given). */
export function releaseTarget(
  commit: string,
  services: Array<[string, ServiceOptions?]>,
  volumes: string[] = [],
  identity: AppIdentity = APP,
): TargetState {
  const rel: ReleaseIdentity = {
    app: identity,
    commit,
    releaseId: Number.parseInt(commit.replace(/\D/g, '') || '1', 10),
  };
  return target(
    app(
      identity,
      release(rel, {
        services: services.map(([name, o]) => labelled(rel, name, o ?? {})),
        volumes: volumes.map((v) => volume(identity, v)),
      }),
    ),
  );
}

/** Both targets' apps on one device. */
export function merge(a: TargetState, b: TargetState): TargetState {
  return { ...a, apps: { ...a.apps, ...b.apps } };
}
