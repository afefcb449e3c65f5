/**
 * Networks and volumes of a release (docs/protocol.md#networks-and-volumes). Every app has a `default`
 * network, created config-only when all its services use host networking (then no container can join it
 * anyway).
 */
import type { NetworkDefinition, VolumeDefinition } from './compose/release-resources.js';
import { networkConfigHash, volumeConfigHash } from './config-hash.js';
import type { NetworkCreateSpec, VolumeCreateSpec } from './container-spec.js';
import type { NetworkTarget, VolumeTarget } from './model.js';
import { networkEngineName, volumeEngineName } from './names.js';
import { setOwn } from './records.js';

export interface ResourceAppFacts {
  appId: number;
  appUuid: string;
}

const stringOptions = (
  options: Readonly<Record<string, string | number>> | undefined,
): Record<string, string> | undefined =>
  options === undefined
    ? undefined
    : Object.fromEntries(Object.entries(options).map(([k, v]) => [k, String(v)]));

export function networkTarget(
  name: string,
  def: NetworkDefinition,
  app: ResourceAppFacts,
  configOnly: boolean,
): NetworkTarget {
  const engineName = networkEngineName(app.appUuid, name);
  const ipamConfig = (def.ipam?.config ?? []).map((c) => ({
    ...(c.subnet === undefined ? {} : { Subnet: c.subnet }),
    ...(c.gateway === undefined ? {} : { Gateway: c.gateway }),
    ...(c.ip_range === undefined ? {} : { IPRange: c.ip_range }),
    ...(c.aux_addresses === undefined ? {} : { AuxiliaryAddresses: c.aux_addresses }),
  }));
  const labels: Record<string, string> = { ...def.labels };
  setOwn(labels, 'io.balena.supervised', 'true');
  setOwn(labels, 'io.balena.app-id', String(app.appId));
  setOwn(labels, 'io.balena.app-uuid', app.appUuid);
  // Marks custom IPAM so that adding or removing it is seen as a change (engine-chosen subnets are not).
  if (ipamConfig.length > 0) setOwn(labels, 'io.balena.private.ipam.config', 'true');
  const options = stringOptions(def.driver_opts);
  const ipamOptions = stringOptions(def.ipam?.options);
  const spec: NetworkCreateSpec = {
    Name: engineName,
    Driver: def.driver ?? 'bridge',
    Labels: labels,
    IPAM: {
      Driver: def.ipam?.driver ?? 'default',
      Config: ipamConfig,
      ...(ipamOptions === undefined ? {} : { Options: ipamOptions }),
    },
    ...(options === undefined ? {} : { Options: options }),
    ...(def.enable_ipv6 === undefined ? {} : { EnableIPv6: def.enable_ipv6 }),
    ...(def.internal === undefined ? {} : { Internal: def.internal }),
    ...(configOnly || def.config_only === true ? { ConfigOnly: true } : {}),
  };
  return { name, engineName, configHash: networkConfigHash(spec), createSpec: spec };
}

export function volumeTarget(
  name: string,
  def: VolumeDefinition,
  app: ResourceAppFacts,
): VolumeTarget {
  const engineName = volumeEngineName(app.appId, name);
  const labels: Record<string, string> = { ...def.labels };
  setOwn(labels, 'io.balena.supervised', 'true');
  setOwn(labels, 'io.balena.app-uuid', app.appUuid);
  const driverOpts = stringOptions(def.driver_opts);
  const spec: VolumeCreateSpec = {
    Name: engineName,
    Driver: def.driver ?? 'local',
    Labels: labels,
    ...(driverOpts === undefined ? {} : { DriverOpts: driverOpts }),
  };
  return { name, engineName, configHash: volumeConfigHash(spec), createSpec: spec };
}

export const EMPTY_NETWORK_DEFINITION: NetworkDefinition = { labels: {} };
