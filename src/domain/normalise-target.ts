/**
 * Validated target + device facts → TargetState (the planner's input). Pure and cheap, so the reconciler
 * can re-run it on every loop with fresh facts (hostname, API keys, OS version).
 *
 * bosun does not run the host OS nor balena-supervisor (docs/protocol.md#supervisor-and-host-apps): host apps
 * keep only services marked as data-store services, and the supervisor's own service is dropped.
 */
import { EMPTY_NETWORK_DEFINITION, networkTarget, volumeTarget } from './app-resources.js';
import type { NormaliseContext } from './context.js';
import { IssueCollector } from './issues.js';
import type {
  AppTarget,
  NetworkTarget,
  ReleaseTarget,
  ServiceTarget,
  TargetState,
  VolumeTarget,
} from './model.js';
import { setOwn } from './records.js';
import { aliasResinLabels } from './service/labels.js';
import { normaliseService } from './service/normalise-service.js';
import type { ValidatedApp, ValidatedService, ValidatedTarget } from './target/validated.js';

/** balena-supervisor's app uuid per architecture (docs/protocol.md#supervisor-and-host-apps). */
export const SUPERVISOR_APP_UUIDS: ReadonlySet<string> = new Set([
  '52e35121417640b1b28a680504e4039b',
  '900de4f3cbac4b9bbd232885a35e407b',
  '2e66a95795c149959c69472a8c2f92b8',
  '531b357e155c480cbec0fdd33041a1f5',
  '6822565f766e413e96d9bebe2227cdcc',
]);
const SUPERVISOR_SERVICE_NAMES = new Set(['main', 'balena-supervisor', 'core']);

/** Whether bosun runs this service at all. */
export function isRunnableService(
  app: Pick<ValidatedApp, 'uuid' | 'isHost'>,
  service: ValidatedService,
): boolean {
  if (SUPERVISOR_APP_UUIDS.has(app.uuid) && SUPERVISOR_SERVICE_NAMES.has(service.serviceName))
    return false;
  if (!app.isHost) return true;
  const labels = aliasResinLabels(service.labels);
  const imageClass = labels['io.balena.image.class'];
  const store = labels['io.balena.image.store'];
  return (
    (imageClass === undefined || imageClass === 'service') &&
    (store === undefined || store === 'data')
  );
}

export interface Normalised {
  target: TargetState;
  warnings: string[];
}

export function normaliseTarget(validated: ValidatedTarget, ctx: NormaliseContext): Normalised {
  const warnings = new IssueCollector();
  const apps: Record<string, AppTarget> = {};
  for (const app of Object.values(validated.apps))
    setOwn(apps, app.uuid, normaliseApp(app, ctx, warnings.at('apps', app.uuid)));
  return {
    target: { name: validated.name, config: { ...validated.config }, apps },
    warnings: [...warnings.warnings],
  };
}

function normaliseApp(
  app: ValidatedApp,
  ctx: NormaliseContext,
  warnings: IssueCollector,
): AppTarget {
  const base = {
    uuid: app.uuid,
    appId: app.appId,
    name: app.name,
    class: app.class,
    isHost: app.isHost,
    source: ctx.source,
  };
  const release = app.release;
  if (release === undefined) return base;
  const at = warnings.at('releases', release.commit);
  const facts = {
    appId: app.appId,
    appUuid: app.uuid,
    appName: app.name,
    releaseId: release.releaseId,
    commit: release.commit,
  };

  const all = Object.values(release.services);
  const runnable = all.filter((service) => isRunnableService(app, service));
  const services: Record<string, ServiceTarget> = {};
  for (const service of runnable)
    setOwn(
      services,
      service.serviceName,
      normaliseService(service, facts, ctx, at.at('services', service.serviceName)),
    );

  const networks: Record<string, NetworkTarget> = {};
  // An app whose every service is filtered out (host OS, supervisor) needs no network at all.
  if (runnable.length > 0 || all.length === 0) {
    const allHost = runnable.every((s) => s.compose.network_mode === 'host');
    const definitions = Object.hasOwn(release.networks, 'default')
      ? release.networks
      : { ...release.networks, default: EMPTY_NETWORK_DEFINITION };
    for (const [name, def] of Object.entries(definitions))
      setOwn(networks, name, networkTarget(name, def, facts, name === 'default' && allHost));
  }
  const volumes: Record<string, VolumeTarget> = {};
  for (const [name, def] of Object.entries(release.volumes))
    setOwn(volumes, name, volumeTarget(name, def, facts));

  const releaseTarget: ReleaseTarget = {
    commit: release.commit,
    releaseId: release.releaseId,
    services,
    networks,
    volumes,
  };
  return { ...base, release: releaseTarget };
}
