/**
 * FakeEngine's networks: the three built-in ones, user networks, and the engine's rules for them
 * (unique names, built-ins cannot go, a network with live endpoints cannot go).
 */
import type { NetworkCreateSpec } from '../../../src/domain/container-spec.js';
import type { Clock } from '../../../src/shared/clock.js';
import { BosunError } from '../../../src/shared/errors.js';
import {
  BUILTIN_NETWORKS,
  matchesLabels,
  resolveBy,
  type FakeNetwork,
} from './fake-engine-state.js';
import type { EngineEvent, NetworkInfo } from '../../../src/engine/port.js';

export interface FakeNetworkDeps {
  clock: Clock;
  emit: (event: EngineEvent) => void;
  newId: (seed: string) => string;
  /** Ids of running containers attached to the named network: only they hold endpoints. */
  runningOn: (networkName: string) => string[];
}

const BUILTIN_DRIVERS: Record<string, string> = { bridge: 'bridge', host: 'host', none: 'null' };

export class FakeNetworkStore {
  private readonly networks = new Map<string, FakeNetwork>();

  constructor(private readonly deps: FakeNetworkDeps) {
    for (const name of BUILTIN_NETWORKS) {
      const bridge = name === 'bridge';
      this.add(true, {
        Name: name,
        Driver: BUILTIN_DRIVERS[name] ?? name,
        Labels: {},
        IPAM: {
          Driver: 'default',
          Config: bridge ? [{ Subnet: '172.17.0.0/16', Gateway: '172.17.0.1' }] : [],
        },
      });
    }
  }

  list(labels: string[] | undefined): NetworkInfo[] {
    return [...this.networks.values()]
      .filter((n) => matchesLabels(n.info.labels, labels))
      .map((n) => this.info(n));
  }

  inspect(ref: string): NetworkInfo {
    return this.info(this.get(ref));
  }

  find(ref: string): FakeNetwork | undefined {
    return resolveBy(
      this.networks.values(),
      ref,
      (x) => x.info.id,
      (x) => x.info.name,
    );
  }

  get(ref: string): FakeNetwork {
    const network = this.find(ref);
    if (network === undefined) {
      throw new BosunError('NOT_FOUND', `network ${ref} not found`, { details: { network: ref } });
    }
    return network;
  }

  create(spec: NetworkCreateSpec): string {
    if ([...this.networks.values()].some((n) => n.info.name === spec.Name)) {
      throw new BosunError('CONFLICT', `network with name ${spec.Name} already exists`);
    }
    const id = this.add(false, spec);
    this.deps.emit({ type: 'network', action: 'create', id, time: this.deps.clock.now() });
    return id;
  }

  remove(ref: string): void {
    const network = this.get(ref);
    if (network.builtin) {
      throw new BosunError(
        'ENGINE_ERROR',
        `${network.info.name} is a pre-defined network and cannot be removed`,
      );
    }
    // Only running containers hold endpoints; the engine lets a network go from under stopped ones.
    if (this.deps.runningOn(network.info.name).length > 0) {
      throw new BosunError(
        'CONFLICT',
        `error while removing network: network ${network.info.name} id ${network.info.id} has active endpoints`,
      );
    }
    this.networks.delete(network.info.id);
    this.deps.emit({
      type: 'network',
      action: 'destroy',
      id: network.info.id,
      time: this.deps.clock.now(),
    });
  }

  private add(builtin: boolean, spec: NetworkCreateSpec): string {
    const id = this.deps.newId(`network:${spec.Name}`);
    this.networks.set(id, {
      builtin,
      info: {
        id,
        name: spec.Name,
        driver: spec.Driver || 'bridge',
        labels: { ...spec.Labels },
        internal: spec.Internal ?? false,
        enableIPv6: spec.EnableIPv6 ?? false,
        configOnly: spec.ConfigOnly ?? false,
        options: { ...(spec.Options ?? {}) },
        ipam: {
          driver: spec.IPAM?.Driver ?? 'default',
          config: (spec.IPAM?.Config ?? []).map((c) => ({
            ...(c.Subnet ? { subnet: c.Subnet } : {}),
            ...(c.Gateway ? { gateway: c.Gateway } : {}),
            ...(c.IPRange ? { ipRange: c.IPRange } : {}),
          })),
        },
      },
    });
    return id;
  }

  private info(network: FakeNetwork): NetworkInfo {
    return {
      ...structuredClone(network.info),
      containers: this.deps.runningOn(network.info.name).sort(),
    };
  }
}
