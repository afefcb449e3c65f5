/**
 * Advertises the device over mDNS the way `balena device detect` looks for it (docs/protocol.md#mdns): an
 * `_ssh._tcp` service named after the short uuid, host `<name>.local`, port 22222, subtype
 * `resin-device` (so a PTR `_resin-device._sub._ssh._tcp.local` answers the CLI's query). Only while in
 * local mode; main.ts starts and stops it on the local-mode switch.
 *
 * One responder per IPv4 address of the chosen interfaces, as the CLI's browser does on its side: each
 * joins the group on its own interface and answers out of it. Loopback is never used: an advertiser
 * that could only be seen from the device itself would be a lie, so with nothing else it stays silent.
 */
import type Bonjour from 'bonjour-service';
import os, { type NetworkInterfaceInfo } from 'node:os';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { EXCLUDED_INTERFACE } from './identity-facts.js';

export const MDNS_SERVICE = {
  type: 'ssh',
  protocol: 'tcp',
  port: 22222,
  subtype: 'resin-device',
} as const;

export interface MdnsAddress {
  interfaceName: string;
  address: string;
}

/**
 * The IPv4 addresses to advertise on. With a configured list, exactly those interfaces (loopback and
 * internal addresses dropped); without one, every non-internal interface of the device's own
 * (docs/protocol.md#device-information).
 */
export function selectMdnsAddresses(
  configured: readonly string[] | undefined,
  interfaces: Record<string, NetworkInterfaceInfo[] | undefined>,
): MdnsAddress[] {
  const names =
    configured && configured.length > 0
      ? configured
      : Object.keys(interfaces).filter((n) => !EXCLUDED_INTERFACE.test(n));
  const out: MdnsAddress[] = [];
  for (const interfaceName of names) {
    for (const a of interfaces[interfaceName] ?? []) {
      if (a.family === 'IPv4' && !a.internal && !a.address.startsWith('127.'))
        out.push({ interfaceName, address: a.address });
    }
  }
  return out;
}

export interface MdnsAdvertiserOptions {
  /** The instance name and host label: the first 7 characters of the device uuid, as balenaOS does. */
  name: string;
  /** Interface names to advertise on; empty or absent means all of the device's own. */
  interfaces?: readonly string[];
  logger: Logger;
  networkInterfaces?: () => Record<string, NetworkInterfaceInfo[] | undefined>;
}

interface Responder {
  address: MdnsAddress;
  bonjour: Bonjour;
  service: Bonjour.Service;
}

export class MdnsAdvertiser {
  private responders: Responder[] = [];
  private starting: Promise<void> | undefined;
  private readonly logger: Logger;

  constructor(private readonly options: MdnsAdvertiserOptions) {
    this.logger = options.logger.child({ component: 'mdns' });
  }

  /** Addresses currently advertised on (empty when stopped, or when no interface qualified). */
  get advertisingOn(): MdnsAddress[] {
    return this.responders.map((r) => r.address);
  }

  /**
   * Starts advertising; resolves once the responders are up (never rejects: a failure is logged).
   * bonjour-service (with multicast-dns, two dozen CommonJS files) is loaded here, on the first start,
   * not when the agent loads: most agents never advertise, and an idle agent should not carry what it
   * does not run.
   */
  start(): Promise<void> {
    this.starting ??= this.startResponders()
      .catch((err: unknown) => this.logger.warn('mdns.start-failed', { err: errorMessage(err) }))
      .finally(() => {
        this.starting = undefined;
      });
    return this.starting;
  }

  private async startResponders(): Promise<void> {
    if (this.responders.length > 0) return;
    const addresses = selectMdnsAddresses(
      this.options.interfaces,
      (this.options.networkInterfaces ?? os.networkInterfaces)(),
    );
    if (addresses.length === 0) {
      this.logger.warn('mdns.no-interface', { configured: this.options.interfaces ?? [] });
      return;
    }
    const { default: BonjourService } = await import('bonjour-service');
    const name = this.options.name;
    for (const address of addresses) {
      // bind 0.0.0.0: a socket bound to a unicast address never sees multicast queries on Linux.
      const bonjour = new BonjourService(
        { interface: address.address, bind: '0.0.0.0' } as Partial<Bonjour.ServiceConfig>,
        (err: unknown) =>
          this.logger.warn('mdns.socket-error', {
            address: address.address,
            err: errorMessage(err),
          }),
      );
      // No probing: the name is the device's own uuid prefix, and with one responder per interface
      // the responders would otherwise take each other's probe answers for a conflict.
      const service = bonjour.publish({
        name,
        type: MDNS_SERVICE.type,
        protocol: MDNS_SERVICE.protocol,
        port: MDNS_SERVICE.port,
        host: `${name}.local`,
        subtypes: [MDNS_SERVICE.subtype],
        probe: false,
        disableIPv6: true,
      });
      this.responders.push({ address, bonjour, service });
    }
    this.logger.info('mdns.advertising', { name, addresses: addresses.map((a) => a.address) });
  }

  /** Says goodbye (TTL 0 records) so browsers forget the device now, then closes the sockets. */
  async stop(): Promise<void> {
    await this.starting; // a start in progress finishes first, so its responders are stopped too
    const responders = this.responders;
    this.responders = [];
    await Promise.all(
      responders.map(
        (r) =>
          new Promise<void>((resolve) => {
            const stop = r.service.stop as (done: () => void) => void;
            stop(() => r.bonjour.destroy(() => resolve()));
          }),
      ),
    );
    if (responders.length > 0) this.logger.info('mdns.stopped', {});
  }
}
