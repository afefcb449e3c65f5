/**
 * A service's network mode and endpoints (docs/protocol.md#service-networks,
 * docs/protocol.md#networks-and-volumes). Without `network_mode` the container's main network is its first
 * declared network, else the app's `default`. A custom mode names an app network. Every app network gets the
 * service name as an alias.
 */
import type { EndpointSpec } from '../container-spec.js';
import { SUPERVISOR_NETWORK } from '../context.js';
import type { ServiceNetwork } from '../compose/service-networks.js';
import { networkEngineName } from '../names.js';
import { setOwn } from '../records.js';

export interface ServiceNetworking {
  /** HostConfig.NetworkMode: `host`, `bridge`, `none`, `service:<name>` or the main engine network name. */
  networkMode: string;
  /** Logical app networks joined, main first. */
  networks: string[];
  /** Engine network name → endpoint, for every network joined (main one first; supervisor0 included). */
  endpoints: Record<string, EndpointSpec>;
}

export interface NetworkingInput {
  appUuid: string;
  serviceName: string;
  networkMode: string | undefined;
  networks: readonly ServiceNetwork[];
  usesSupervisorApi: boolean;
}

const SPECIAL_MODES = new Set(['host', 'bridge', 'none']);

export function isHostNetworked(networkMode: string | undefined): boolean {
  return networkMode === 'host';
}

function endpointFor(network: ServiceNetwork | undefined, serviceName: string): EndpointSpec {
  const aliases = [...new Set([...(network?.aliases ?? []), serviceName])];
  const endpoint: EndpointSpec = { Aliases: aliases };
  const ipam: NonNullable<EndpointSpec['IPAMConfig']> = {};
  if (network?.ipv4Address !== undefined) ipam.IPv4Address = network.ipv4Address;
  if (network?.ipv6Address !== undefined) ipam.IPv6Address = network.ipv6Address;
  if (network !== undefined && network.linkLocalIps.length > 0)
    ipam.LinkLocalIPs = [...network.linkLocalIps];
  if (Object.keys(ipam).length > 0) endpoint.IPAMConfig = ipam;
  return endpoint;
}

export function serviceNetworking(input: NetworkingInput): ServiceNetworking {
  const mode = input.networkMode;
  if (mode !== undefined && (SPECIAL_MODES.has(mode) || mode.startsWith('service:'))) {
    const endpoints: Record<string, EndpointSpec> = {};
    // Only a container with its own network namespace can join supervisor0 (never host networking).
    if (mode === 'bridge' && input.usesSupervisorApi) endpoints[SUPERVISOR_NETWORK] = {};
    return { networkMode: mode, networks: [], endpoints };
  }
  const declared = [...input.networks];
  const main = mode ?? declared[0]?.name ?? 'default';
  if (!declared.some((n) => n.name === main))
    declared.unshift({
      name: main,
      aliases: [],
      ipv4Address: undefined,
      ipv6Address: undefined,
      linkLocalIps: [],
    });
  const ordered = [
    declared.find((n) => n.name === main)!,
    ...declared.filter((n) => n.name !== main),
  ];
  const endpoints: Record<string, EndpointSpec> = {};
  for (const network of ordered)
    setOwn(
      endpoints,
      networkEngineName(input.appUuid, network.name),
      endpointFor(network, input.serviceName),
    );
  if (input.usesSupervisorApi) endpoints[SUPERVISOR_NETWORK] = {};
  const mainEngineName = networkEngineName(input.appUuid, main);
  return { networkMode: mainEngineName, networks: ordered.map((n) => n.name), endpoints };
}
