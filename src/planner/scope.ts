/**
 * One app's planning in progress: what the app looks like now, what its target is, and the steps and
 * blockers chosen so far. It also remembers which step removes (or renames away) each container, so
 * that later steps (a create reusing the name, a network removal) can depend on it.
 */
import type { ContainerState, ReleaseTarget, ServiceTarget } from '../domain/model.js';
import type { AppCurrent } from './app-view.js';
import { DraftPlan } from './draft.js';
import { lockKey } from '../domain/keys.js';
import type { World } from './world.js';

/** What a service's planning decided, as far as services that depend on it care. */
export interface ServiceOutcome {
  /** The start step planned for it this round (a `service_started` dependent can chain on it). */
  startStepId: string | undefined;
  /** The container that already serves the target as is, if any. */
  container: ContainerState | undefined;
  /** The rename that gives that container its target name this round: dependents start after it. */
  renamedBy?: string;
}

export class AppScope {
  readonly out = new DraftPlan();
  /** Container id → the step that removes it this round. */
  readonly removedBy = new Map<string, string>();
  /** Container name → the step that frees that name this round (remove, rename or retire). */
  readonly nameFreedBy = new Map<string, string>();
  readonly outcomes = new Map<string, ServiceOutcome>();
  /** Engine network name → id of the step creating it (this round, or after its removal for a recreate). */
  readonly networkCreates = new Map<string, string>();
  /** Engine names of current networks that must go; true when they come back with a new config. */
  readonly doomedNetworks = new Map<string, boolean>();
  /** Engine volume name → id of the step creating it this round. */
  readonly volumeCreates = new Map<string, string>();
  private imagesReady: boolean | undefined;

  constructor(
    readonly world: World,
    readonly uuid: string,
    readonly appId: number | undefined,
    readonly app: AppCurrent,
    readonly release: ReleaseTarget | undefined,
  ) {}

  get ctx(): World['ctx'] {
    return this.world.ctx;
  }

  isUserLocked(serviceName: string): boolean {
    return (
      this.appId !== undefined && this.world.locks.get(lockKey(this.appId, serviceName)) === 'user'
    );
  }

  /** Services of this app whose update lock a user (not the agent) holds, sorted. */
  userLockedServices(): string[] {
    if (this.appId === undefined) return [];
    const prefix = lockKey(this.appId, '');
    const held: string[] = [];
    for (const [key, holder] of this.world.locks)
      if (holder === 'user' && key.startsWith(prefix)) held.push(key.slice(prefix.length));
    return held.sort();
  }

  isAgentLocked(serviceName: string): boolean {
    return (
      this.appId !== undefined && this.world.locks.get(lockKey(this.appId, serviceName)) === 'agent'
    );
  }

  /** Download-then-kill and every create wait until all of the app's target images are on the engine. */
  appImagesReady(): boolean {
    this.imagesReady ??= Object.values(this.release?.services ?? {}).every(
      (s) => this.world.images.resolve(s.image) !== undefined,
    );
    return this.imagesReady;
  }

  /** True when the container is attached to a network that is removed or recreated this update. */
  isNetworkAffected(c: ContainerState): boolean {
    return c.networks.some((n) => this.doomedNetworks.has(n));
  }

  /** Steps creating the networks and volumes the service needs (host networking joins no app network). */
  prerequisites(s: ServiceTarget): string[] {
    const ids: string[] = [];
    const release = this.release;
    if (!release) return ids;
    if (!joinsNoAppNetwork(s.networkMode)) {
      for (const name of s.networks) {
        const engineName = release.networks[name]?.engineName;
        const id = engineName === undefined ? undefined : this.networkCreates.get(engineName);
        if (id !== undefined) ids.push(id);
      }
    }
    for (const name of s.volumes) {
      const engineName = release.volumes[name]?.engineName;
      const id = engineName === undefined ? undefined : this.volumeCreates.get(engineName);
      if (id !== undefined) ids.push(id);
    }
    return ids;
  }
}

/** `host`, `none` and `container:`/`service:` modes share another namespace instead of joining app networks. */
export function joinsNoAppNetwork(networkMode: string): boolean {
  return (
    networkMode === 'host' ||
    networkMode === 'none' ||
    networkMode.startsWith('service:') ||
    networkMode.startsWith('container:')
  );
}
