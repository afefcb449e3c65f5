/**
 * Services the user stopped through the API stay stopped until released: every target the loop applies
 * (the real one and intermediate ones) is first given `running: false` for them.
 */
import { serviceKey, type ServiceKey } from '../domain/keys.js';
import type { TargetState } from '../domain/model.js';

export function withHeldStopped(target: TargetState, held: ReadonlySet<ServiceKey>): TargetState {
  if (held.size === 0) return target;
  const apps = Object.fromEntries(
    Object.entries(target.apps).map(([uuid, app]) => {
      const release = app.release;
      if (release === undefined) return [uuid, app];
      const services = Object.fromEntries(
        Object.entries(release.services).map(([name, service]) => [
          name,
          held.has(serviceKey(uuid, name)) ? { ...service, running: false } : service,
        ]),
      );
      return [uuid, { ...app, release: { ...release, services } }];
    }),
  );
  return { ...target, apps };
}
