/**
 * Which engine events are worth a round. Only changes to supervised containers in our scope (start,
 * die, stop, health…) and the loss of a network or volume we observed wake the loop, and never the
 * echo of our own step: the engine reports our start, stop and removal back as events, usually just
 * after the next observation began, and a round for them would cost engine requests for nothing. A
 * container death is also reported to the failure memory (its crash window).
 */
import type { CurrentState } from '../domain/model.js';
import type { EngineEvent } from '../engine/port.js';
import type { Step } from '../planner/index.js';
import { serviceKey, type ServiceKey } from '../domain/keys.js';
import type { Clock } from '../shared/clock.js';
import type { FailureMemory } from './failure-memory.js';
import type { WakeQueue } from './wake-queue.js';

/** How long a step's echo events are expected. */
const ECHO_WINDOW_MS = 5_000;

const WAKING_CONTAINER_ACTIONS = new Set([
  'start',
  'die',
  'destroy',
  'stop',
  'oom',
  'pause',
  'unpause',
]);

export interface EngineWakesDeps {
  clock: Clock;
  queue: WakeQueue;
  failures: FailureMemory;
  observer: {
    engineReconnected?(): void;
    noteEvent?(event: EngineEvent): void;
    covers?(labels: Record<string, string>): boolean;
  };
  lastObserved: () => CurrentState | undefined;
  /** Services the executor is acting on right now (a `die` during our own stop is ours). */
  acting: () => ReadonlyMap<ServiceKey, string>;
}

export class EngineWakes {
  /** Container id or name → engine events our own successful steps will cause. */
  private readonly echoes = new Map<string, { actions: Set<string>; until: number }>();

  constructor(private readonly deps: EngineWakesDeps) {}

  onEvent(event: EngineEvent): void {
    const { queue } = this.deps;
    // Our own echoes too: whatever the engine reports changed must be asked again next round.
    this.deps.observer.noteEvent?.(event);
    if (event.type === 'reconnected') {
      this.deps.observer.engineReconnected?.();
      return queue.wake('engine-reconnected');
    }
    if (event.type === 'disconnected') return;
    if (event.type === 'container') {
      const action = event.action.split(':')[0] ?? '';
      const supervised =
        event.labels['io.balena.supervised'] !== undefined ||
        event.labels['io.resin.supervised'] !== undefined;
      if (!supervised || !(WAKING_CONTAINER_ACTIONS.has(action) || action === 'health_status'))
        return;
      if (!(this.deps.observer.covers?.(event.labels) ?? true)) return;
      if (action === 'die') {
        this.deps.failures.noteDeath(event.labels, event.exitCode);
        if (!this.isAgentStop(event.id, event.name, event.labels))
          this.deps.failures.stoppedByOthers(event.labels, event.name);
      }
      if (action === 'destroy') this.deps.failures.removed(event.labels, event.name);
      if (this.isEcho(event.id, event.name, action)) return;
    } else {
      if (event.action !== 'destroy') return;
      // Any network gone may have freed the address range a network creation waits for.
      const freed = event.type === 'network' && this.deps.failures.networkRemoved();
      // Otherwise only the loss of a network or volume we saw matters (these events carry no labels).
      if (!freed && !this.wasObserved(event.type, event.id)) return;
    }
    queue.wakeSoon('engine-event');
  }

  /**
   * Each step that succeeded expects exactly its own echoes (a start expects `start`, not the `die` of a
   * container that then exits), each consumed once, and only for a short while.
   */
  expectEchoes(step: Step): void {
    let actions: string[];
    if (step.kind === 'startContainer') actions = ['start'];
    else if (step.kind === 'stopContainer') actions = ['kill', 'die', 'stop'];
    else if (step.kind === 'removeContainer') actions = ['destroy'];
    else return;
    const now = this.deps.clock.now();
    for (const [ref, echo] of this.echoes) if (echo.until < now) this.echoes.delete(ref);
    this.echoes.set(step.containerId, { actions: new Set(actions), until: now + ECHO_WINDOW_MS });
  }

  private isEcho(id: string, name: string | undefined, action: string): boolean {
    for (const ref of [id, name]) {
      const echo = ref === undefined ? undefined : this.echoes.get(ref);
      if (echo === undefined || echo.until < this.deps.clock.now() || !echo.actions.has(action))
        continue;
      echo.actions.delete(action);
      return true;
    }
    return false;
  }

  /** A `die` the agent caused: its stop step is running, or succeeded and awaits its echo. */
  private isAgentStop(
    id: string,
    name: string | undefined,
    labels: Record<string, string>,
  ): boolean {
    const key = serviceKey(
      labels['io.balena.app-uuid'] ?? '',
      labels['io.balena.service-name'] ?? '',
    );
    if (this.deps.acting().get(key) === 'Stopping') return true;
    const now = this.deps.clock.now();
    return [id, name].some((ref) => {
      const echo = ref === undefined ? undefined : this.echoes.get(ref);
      return echo !== undefined && echo.until >= now && echo.actions.has('die');
    });
  }

  private wasObserved(type: 'image' | 'network' | 'volume', id: string): boolean {
    const current = this.deps.lastObserved();
    if (current === undefined) return true;
    if (type === 'network') return current.networks.some((n) => n.id === id || n.engineName === id);
    if (type === 'volume') return current.volumes.some((v) => v.engineName === id);
    return false;
  }
}
