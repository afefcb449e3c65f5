/**
 * Content-derived step ids: the same work gets the same id in every round and on every run, so the
 * reconciler can key backoff on it and golden plans stay stable. No counters, no randomness.
 */

export const stepIds = {
  pullImage: (image: string): string => `pullImage:${image}`,
  removeImage: (engineImageId: string): string => `removeImage:${engineImageId}`,
  createNetwork: (engineName: string): string => `createNetwork:${engineName}`,
  removeNetwork: (engineName: string): string => `removeNetwork:${engineName}`,
  createVolume: (engineName: string): string => `createVolume:${engineName}`,
  removeVolume: (engineName: string): string => `removeVolume:${engineName}`,
  takeLock: (appId: number): string => `takeLock:${appId}`,
  releaseLock: (appId: number): string => `releaseLock:${appId}`,
  /** Keyed by the container name the new container gets. */
  createContainer: (app: string, service: string, name: string): string =>
    `createContainer:${app}:${service}:${name}`,
  /** Keyed by name so a start that failed right after its create keeps its id in the next round. */
  startContainer: (app: string, service: string, name: string): string =>
    `startContainer:${app}:${service}:${name}`,
  stopContainer: (app: string, service: string, containerId: string): string =>
    `stopContainer:${app}:${service}:${containerId}`,
  removeContainer: (app: string, service: string, containerId: string): string =>
    `removeContainer:${app}:${service}:${containerId}`,
  renameContainer: (app: string, service: string, containerId: string): string =>
    `renameContainer:${app}:${service}:${containerId}`,
  retireContainer: (app: string, service: string, containerId: string): string =>
    `retireContainer:${app}:${service}:${containerId}`,
  recordCommit: (app: string, commit: string): string => `recordCommit:${app}:${commit}`,
  createSupervisorNetwork: (name: string): string => `createSupervisorNetwork:${name}`,
  discardContainer: (app: string, service: string, containerId: string): string =>
    `discardContainer:${app}:${service}:${containerId}`,
  /** Keyed by the reference: several local references may name one engine image. */
  removeImageReference: (reference: string): string => `removeImage:${reference}`,
};

/** Backoff key for all work of one service (the one constructor lives in domain/keys.ts). */
export { serviceKey } from '../domain/keys.js';
