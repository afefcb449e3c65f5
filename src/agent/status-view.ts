/**
 * Derives the API's StatusView from a reconciler snapshot: pure, and memoised on the snapshot's identity so
 * a burst of status requests during an apply costs one derivation per reconciler change, not per request.
 */
import type { AppView, ImageView, ServiceView, StatusView } from '../api/agent-api.js';
import type { ContainerState, CurrentState, ImageState, TargetState } from '../domain/model.js';
import type { AppStatus } from '../reconciler/status.js';
import type { ReconcilerSnapshot } from './ports.js';

export function deriveStatusView(snapshot: ReconcilerSnapshot): StatusView {
  const apps: AppView[] = [];
  const images: ImageView[] = [];
  for (const appStatus of Object.values(snapshot.status.apps)) {
    const app = appView(appStatus, snapshot.target, snapshot.current);
    apps.push(app);
    images.push(...imageViews(app, appStatus, snapshot.current));
  }
  apps.sort((a, b) => a.appId - b.appId);
  return { applying: snapshot.status.appState === 'applying', apps, images };
}

function appView(
  status: AppStatus,
  target: TargetState | undefined,
  current: CurrentState | undefined,
): AppView {
  const release = target?.apps[status.appUuid]?.release;
  const services: ServiceView[] = [];
  for (const s of Object.values(status.services)) {
    const serviceTarget = release?.services[s.serviceName];
    const container = findContainer(current, s.containerId);
    services.push({
      serviceName: s.serviceName,
      serviceId: serviceTarget?.serviceId ?? container?.serviceId ?? 0,
      imageId: serviceTarget?.imageId ?? container?.imageId ?? 0,
      releaseId: container?.releaseId ?? release?.releaseId ?? 0,
      commit: container?.commit ?? release?.commit ?? '',
      containerId: s.containerId,
      status: s.status,
      createdAt: container?.createdAt,
      image: s.image ?? serviceTarget?.image ?? '',
      downloadProgress: s.downloadProgress ?? null,
    });
  }
  services.sort((a, b) => a.serviceId - b.serviceId || a.serviceName.localeCompare(b.serviceName));
  return {
    appId: status.appId,
    appUuid: status.appUuid,
    name: status.name,
    commit: status.currentCommit ?? status.targetCommit,
    updateStatus: status.updateStatus,
    services,
    ...(status.releaseCheck === undefined ? {} : { releaseCheck: status.releaseCheck }),
  };
}

function imageViews(
  app: AppView,
  status: AppStatus,
  current: CurrentState | undefined,
): ImageView[] {
  const out: ImageView[] = [];
  for (const s of app.services) {
    if (s.image === '') continue;
    const engineImage =
      findImage(current, s.image) ?? findContainer(current, s.containerId)?.engineImageId;
    const word = status.services[s.serviceName]?.status;
    const downloading = word === 'Downloading';
    // The disk preflight holds the download back: the image is not there, and the status says why.
    const noRoom = word === 'Insufficient storage';
    out.push({
      name: s.image,
      appId: app.appId,
      serviceName: s.serviceName,
      imageId: s.imageId,
      dockerImageId: downloading || noRoom ? null : (engineImage ?? null),
      status: noRoom ? 'Insufficient storage' : downloading ? 'Downloading' : 'Downloaded',
      downloadProgress: downloading ? s.downloadProgress : null,
    });
  }
  return out;
}

function findContainer(
  current: CurrentState | undefined,
  id: string | undefined,
): ContainerState | undefined {
  return id === undefined ? undefined : current?.containers.find((c) => c.id === id);
}

function findImage(current: CurrentState | undefined, reference: string): string | undefined {
  const matches = (image: ImageState): boolean =>
    image.id === reference ||
    image.repoTags.includes(reference) ||
    image.repoDigests.includes(reference);
  return current?.images.find(matches)?.id;
}

/** Remembers the view of the last snapshot it saw. */
export class StatusViewCache {
  private last: { snapshot: ReconcilerSnapshot; view: StatusView } | undefined;

  view(snapshot: ReconcilerSnapshot): StatusView {
    if (this.last?.snapshot !== snapshot)
      this.last = { snapshot, view: deriveStatusView(snapshot) };
    return this.last.view;
  }
}
