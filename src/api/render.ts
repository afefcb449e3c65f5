/**
 * Pure renderers from the agent's StatusView to balena's wire shapes (docs/protocol.md#api-endpoints). Scoped
 * keys see only their own app: list routes filter here rather than answering 403.
 */
import type { AppView, CloudConnectivity, KeyScope, StatusView } from './agent-api.js';
import { inScope } from './auth.js';

export function appsInScope(view: StatusView, scope: KeyScope): AppView[] {
  return view.apps.filter((app) => inScope(scope, app.appId));
}

/** GET /v2/applications/state: keyed by app name. */
export function renderApplicationsState(
  view: StatusView,
  scope: KeyScope,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const app of appsInScope(view, scope)) {
    const services: Record<string, unknown> = {};
    for (const s of app.services) {
      services[s.serviceName] = {
        status: s.status,
        image: s.image,
        releaseId: s.releaseId,
        downloadProgress: s.downloadProgress,
      };
    }
    out[app.name] = {
      appId: app.appId,
      appUuid: app.appUuid,
      commit: app.commit ?? null,
      updateStatus: app.updateStatus,
      services,
    };
  }
  return out;
}

/** GET /v2/applications/:appId/state: the legacy shape, services keyed by image id. */
export function renderLegacyAppState(app: AppView): Record<string, unknown> {
  const services: Record<string, unknown> = {};
  for (const s of app.services) {
    services[String(s.imageId)] = {
      status: s.status,
      releaseId: s.releaseId,
      download_progress: s.downloadProgress,
    };
  }
  return { commit: app.commit ?? null, local: { [String(app.appId)]: { services } } };
}

/**
 * GET /v2/state/status. balena describes only the first app found (containers first, then images); we keep
 * that so the CLI sees the same thing, preferring the app that has containers.
 */
export function renderStateStatus(
  view: StatusView,
  scope: KeyScope,
  cloud?: CloudConnectivity,
): Record<string, unknown> {
  const apps = appsInScope(view, scope);
  const app =
    apps.find((a) => a.services.some((s) => s.containerId !== undefined)) ??
    apps.find((a) => view.images.some((i) => i.appId === a.appId)) ??
    apps[0];
  const containers =
    app?.services
      .filter((s) => s.containerId !== undefined)
      .map((s) => ({
        status: s.status,
        serviceName: s.serviceName,
        appId: app.appId,
        imageId: s.imageId,
        serviceId: s.serviceId,
        containerId: s.containerId,
        createdAt: s.createdAt ?? null,
      })) ?? [];
  const images = app === undefined ? [] : view.images.filter((i) => i.appId === app.appId);
  const progresses = images.map((i) => i.downloadProgress).filter((p): p is number => p !== null);
  const overall =
    progresses.length === 0
      ? null
      : Math.round(progresses.reduce((a, b) => a + b, 0) / progresses.length);
  return {
    status: 'success',
    appState: view.applying ? 'applying' : 'applied',
    overallDownloadProgress: overall,
    containers,
    images,
    release: app?.commit ?? null,
    // bosun's addition (balena-cli ignores unknown fields): whether the cloud answers, while the
    // device keeps running its stored target.
    ...(cloud === undefined ? {} : { cloud: renderCloudConnectivity(cloud) }),
    ...renderReleaseCheck(app),
  };
}

function isoOrNull(epochMs: number | null): string | null {
  return epochMs === null ? null : new Date(epochMs).toISOString();
}

export function renderCloudConnectivity(cloud: CloudConnectivity): Record<string, unknown> {
  return {
    endpoint: cloud.endpoint,
    provisioned: cloud.provisioned,
    reachable: cloud.reachable,
    lastSuccessfulPoll: isoOrNull(cloud.lastSuccessfulPollAt),
    offlineSince: isoOrNull(cloud.offlineSince),
    lastError: cloud.lastError,
    connectivityCheck: cloud.connectivityCheck,
  };
}

/** GET /v2/containerId without a query: service name → container id over in-scope apps. */
export function renderContainerIds(view: StatusView, scope: KeyScope): Record<string, string> {
  const services: Record<string, string> = {};
  for (const app of appsInScope(view, scope)) {
    for (const s of app.services)
      if (s.containerId !== undefined) services[s.serviceName] = s.containerId;
  }
  return services;
}

export function findContainerId(
  view: StatusView,
  scope: KeyScope,
  serviceName: string,
): string | undefined {
  return renderContainerIds(view, scope)[serviceName];
}

/** GET /v2/state/status, bosun's own fields: a failed release (and what runs instead), a running window. */
function renderReleaseCheck(app: AppView | undefined): Record<string, unknown> {
  const failed = app?.releaseCheck?.failed;
  const watching = app?.releaseCheck?.watching;
  return {
    rollback:
      failed === undefined
        ? null
        : {
            failedRelease: failed.commit,
            reason: failed.reason,
            service: failed.service ?? null,
            cause: failed.cause,
            at: new Date(failed.at).toISOString(),
            rolledBackTo: failed.rolledBackTo ?? null,
          },
    confirmation:
      watching === undefined
        ? null
        : { release: watching.commit, until: new Date(watching.until).toISOString() },
  };
}
