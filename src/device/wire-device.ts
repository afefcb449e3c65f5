/**
 * The device subsystem's wiring: host actions (systemd/logind over D-Bus as balenaOS does, or recorded
 * on a development machine), reboot and power-off guarded by update locks, the device facts the API and
 * the cloud report, the reboot a service's `requiresReboot` waits for, and the opt-in mDNS advertiser.
 * Everything it needs from other subsystems comes in as functions.
 */
import { BosunError } from '../shared/errors.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { GuardedPower, type PowerLocks } from './guarded-power.js';
import { createHostActions } from './host-actions.js';
import type { DeviceIdentity } from './identity.js';
import { MdnsAdvertiser } from './mdns.js';
import { RebootAfterApply } from './reboot-after-apply.js';

export interface WireDeviceDeps {
  env: Readonly<Record<string, string | undefined>>;
  identity: DeviceIdentity;
  locks: PowerLocks;
  /** The apps on the device now and their services (whose locks reboot and power-off take). */
  apps: () => ReadonlyArray<{ appId: number; services: readonly string[] }>;
  /** config.json's hostname and uuid, and how to change the hostname there. */
  config: {
    hostname: () => string | undefined;
    uuid: () => string | undefined;
    setHostname: (hostname: string) => Promise<void>;
  };
  lockRoot: string;
  bootTime: number;
  /** Interfaces to advertise on while in local mode (BOSUN_MDNS_INTERFACES); undefined: never. */
  mdnsInterfaces: readonly string[] | undefined;
  localMode: boolean;
  clock: Clock;
  logger: Logger;
}

export function wireDevice(deps: WireDeviceDeps) {
  const { identity, config, logger } = deps;
  const host = createHostActions(deps.env, logger);
  const power = new GuardedPower({
    host,
    locks: deps.locks,
    apps: deps.apps,
    clock: deps.clock,
    logger,
  });
  const facts = {
    ipAddresses: () => Promise.resolve(identity.ipAddresses()),
    macAddresses: () => identity.macAddresses(),
    osVersion: () => identity.osVersion(),
    // No VPN on a generic host yet: the cloud binding brings it.
    vpnConnected: () => Promise.resolve(false),
    hostname: () => Promise.resolve(config.hostname() ?? identity.hostname()),
    setHostname: async (hostname: string) => {
      await config.setHostname(hostname === '' ? (config.uuid() ?? '').slice(0, 7) : hostname);
    },
    proxy: () => Promise.resolve(undefined),
    setProxy: () =>
      Promise.reject(
        new BosunError(
          'NOT_READY',
          'proxy configuration needs the host proxy integration (redsocks), which this host does not have',
        ),
      ),
  };
  const rebootAfterApply = new RebootAfterApply({
    lockRoot: deps.lockRoot,
    bootTime: deps.bootTime,
    power,
    logger,
  });
  // Opt-in (BOSUN_MDNS_INTERFACES=eth0,wlan0 or `all`): advertising multicasts on those interfaces,
  // which a development or CI host must not do by accident. Only while in local mode.
  const mdns =
    deps.localMode && deps.mdnsInterfaces !== undefined
      ? new MdnsAdvertiser({
          name: (config.uuid() ?? identity.hostname()).slice(0, 7),
          interfaces: [...deps.mdnsInterfaces],
          logger,
        })
      : undefined;
  return { host, power, facts, rebootAfterApply, mdns };
}
