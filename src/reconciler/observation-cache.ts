/**
 * What the observer may take from its last observation instead of asking the engine again. Each round
 * used to list and inspect everything (a one-service env change on a five-service device cost 34 engine
 * requests against a floor of 4). The engine tells us what changes through its event stream, and our own
 * steps tell us what we changed, so a resource class (images, networks, volumes) is listed again only
 * when an event or a step touched it, and a container is inspected again only when it is new, touched,
 * or its list entry (state, health) no longer matches what we hold.
 *
 * Safety first: while the event stream is down, or after the engine reconnected, nothing is cached (the
 * stream replays what it missed only if the engine survived). Every entry also expires after `maxAgeMs`,
 * so a lost event can never leave a wrong picture for longer than that (rounds are rare when idle, so
 * this costs no idle requests).
 */
import type { EngineEvent } from '../engine/port.js';
import type { Step } from '../planner/index.js';

export type ResourceClass = 'images' | 'networks' | 'volumes';

interface Held<T> {
  value: T;
  at: number;
}

const DEFAULT_MAX_AGE_MS = 60_000;

export class ObservationCache<
  C extends { name: string },
  R extends Record<ResourceClass, unknown>,
> {
  private lists: { [K in ResourceClass]?: Held<R[K]> } = {};
  private readonly containers = new Map<string, Held<C> & { signature: string }>();
  /** Events are flowing: off while the stream is down, so every observation is a full one. */
  private live = true;

  constructor(
    private readonly now: () => number,
    private readonly maxAgeMs = DEFAULT_MAX_AGE_MS,
  ) {}

  /** Every engine event, ours included (our echoes still mean the engine changed). */
  noteEvent(event: EngineEvent): void {
    switch (event.type) {
      case 'disconnected':
        this.live = false;
        return this.clear();
      case 'reconnected':
        this.live = true;
        return this.clear();
      case 'container':
        // A container's start, stop or removal also changes the networks it is attached to.
        this.containers.delete(event.id);
        return;
      case 'image':
        delete this.lists.images;
        return;
      case 'network':
        delete this.lists.networks;
        return;
      case 'volume':
        delete this.lists.volumes;
        return;
    }
  }

  /** A step ran (or failed part-way): forget what it may have changed, before its events arrive. */
  noteStep(step: Step): void {
    switch (step.kind) {
      case 'pullImage':
      case 'removeImage':
        delete this.lists.images;
        return;
      case 'createNetwork':
      case 'removeNetwork':
        delete this.lists.networks;
        return;
      case 'createVolume':
      case 'removeVolume':
        delete this.lists.volumes;
        return;
      case 'startContainer':
      case 'stopContainer':
      case 'removeContainer':
      case 'renameContainer':
      case 'retireContainer':
      case 'discardContainer':
        // Steps may name a container that the plan itself created: drop by id or name.
        this.dropContainer(step.containerId);
        return;
      case 'createContainer': // new: nothing held for it yet
      case 'takeLock':
      case 'releaseLock':
      case 'recordCommit':
      case 'createSupervisorNetwork': // observed by its own inspect, not a held list
        return;
    }
  }

  /** Forget everything (the engine was replaced, or the observer was told to start over). */
  clear(): void {
    this.lists = {};
    this.containers.clear();
  }

  list<K extends ResourceClass>(kind: K): R[K] | undefined {
    const held = this.lists[kind];
    if (held === undefined || !this.fresh(held.at)) return undefined;
    return held.value;
  }

  keepList<K extends ResourceClass>(kind: K, value: R[K]): void {
    if (this.live) this.lists[kind] = { value, at: this.now() };
  }

  /** The held inspect of a container whose list entry still reads `signature`. */
  container(id: string, signature: string): C | undefined {
    const held = this.containers.get(id);
    if (held === undefined || held.signature !== signature || !this.fresh(held.at))
      return undefined;
    return held.value;
  }

  keepContainer(id: string, signature: string, value: C): void {
    if (this.live) this.containers.set(id, { value, signature, at: this.now() });
  }

  /** Keeps only the containers still listed (removed ones are not held forever). */
  retainContainers(listed: ReadonlySet<string>): void {
    for (const id of this.containers.keys()) if (!listed.has(id)) this.containers.delete(id);
  }

  private dropContainer(ref: string): void {
    if (this.containers.delete(ref)) return;
    // A name (or short id): the engine accepts either, so the entry may be held under the full id.
    for (const [id, held] of this.containers) {
      if (id.startsWith(ref) || held.value.name === ref) this.containers.delete(id);
    }
  }

  private fresh(at: number): boolean {
    return this.now() - at < this.maxAgeMs;
  }
}
