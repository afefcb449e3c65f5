/**
 * Device facts for `/v2/local/device-info`, the state report and container env injection: arch, device
 * type, OS version, hostname, IP and MAC addresses. Everything it reads is injected (paths, the Node
 * arch, the interface list), so tests point it at a fixture tree. Facts are read on each call: they
 * are cheap and rarely asked, and a cache would go stale when an interface comes up.
 */
import { readdir, readFile } from 'node:fs/promises';
import os, { type NetworkInterfaceInfo } from 'node:os';
import { join } from 'node:path';
import {
  balenaArch,
  defaultDeviceType,
  EXCLUDED_INTERFACE,
  presenceAddresses,
} from './identity-facts.js';
import { osVariant, readOsRelease, type OsFacts } from './host-os-facts.js';

export interface DeviceIdentityOptions {
  /** The device type: device-type.json `slug` on a device, else config.json `deviceType`, when set. */
  configDeviceType?: string | undefined;
  /** device-type.json `arch`, when the boot partition has one; else detected from this Node. */
  arch?: string | undefined;
  /** config.json `developmentMode`: the OS variant when os-release has no VARIANT_ID. */
  developmentMode?: boolean | undefined;
  /** config.json `hostname`, when set. */
  configHostname?: string | undefined;
  osReleasePath?: string;
  sysClassNetPath?: string;
  nodeArch?: string;
  /** `process.config.variables.arm_version` on 32-bit ARM. */
  armVersion?: string | undefined;
  networkInterfaces?: () => Record<string, NetworkInterfaceInfo[] | undefined>;
  systemHostname?: () => string;
}

/** ARPHRD_ETHER: Ethernet and Wi-Fi; bridges' own ports, tunnels and loopback have other types. */
const ARPHRD_ETHER = '1';

export class DeviceIdentity {
  readonly arch: string;
  readonly deviceType: string;
  private readonly osReleasePath: string;
  private readonly sysClassNetPath: string;
  private readonly networkInterfaces: () => Record<string, NetworkInterfaceInfo[] | undefined>;
  private readonly systemHostname: () => string;

  constructor(private readonly options: DeviceIdentityOptions = {}) {
    this.arch =
      nonEmpty(options.arch) ??
      balenaArch(options.nodeArch ?? process.arch, options.armVersion ?? armVersionOfThisNode());
    this.deviceType = nonEmpty(options.configDeviceType) ?? defaultDeviceType(this.arch);
    this.osReleasePath = options.osReleasePath ?? '/etc/os-release';
    this.sysClassNetPath = options.sysClassNetPath ?? '/sys/class/net';
    this.networkInterfaces = options.networkInterfaces ?? os.networkInterfaces;
    this.systemHostname = options.systemHostname ?? os.hostname;
  }

  /** os-release PRETTY_NAME; undefined when the file is missing, broken or has none. */
  async osVersion(): Promise<string | undefined> {
    return (await this.osRelease()).version;
  }

  /** `prod` or `dev`: os-release VARIANT_ID, else from config.json developmentMode. */
  async osVariant(): Promise<string> {
    return osVariant((await this.osRelease()).variantId, this.options.developmentMode ?? false);
  }

  /** os-release BALENA_BOARD_REV, falling back to RESIN_BOARD_REV (balenaOS only). */
  async osBoardRev(): Promise<string | undefined> {
    return (await this.osRelease()).boardRev;
  }

  hostname(): string {
    return nonEmpty(this.options.configHostname) ?? this.systemHostname();
  }

  ipAddresses(): string[] {
    return presenceAddresses(this.networkInterfaces());
  }

  /** Upper-case MACs of Ethernet/Wi-Fi interfaces not enslaved to a bridge or bond, de-duplicated. */
  async macAddresses(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.sysClassNetPath);
    } catch {
      return [];
    }
    const macs = await Promise.all(
      names.filter((n) => !EXCLUDED_INTERFACE.test(n)).map((n) => this.macOf(n)),
    );
    return [...new Set(macs.filter((m): m is string => m !== undefined))].sort();
  }

  private async macOf(name: string): Promise<string | undefined> {
    const dir = join(this.sysClassNetPath, name);
    const [type, address, master] = await Promise.all([
      readText(join(dir, 'type')),
      readText(join(dir, 'address')),
      readdir(join(dir, 'master')).then(
        () => true,
        (err: NodeJS.ErrnoException) => err.code !== 'ENOENT',
      ),
    ]);
    if (type !== ARPHRD_ETHER || master || address === undefined || address === '')
      return undefined;
    return address.toUpperCase();
  }

  /** A missing or broken os-release means "unknown", never an error (development hosts, containers). */
  private async osRelease(): Promise<OsFacts> {
    const read = await readOsRelease(this.osReleasePath);
    return read.kind === 'found'
      ? read.facts
      : { version: undefined, variantId: undefined, boardRev: undefined };
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function armVersionOfThisNode(): string | undefined {
  const version = (process.config.variables as Record<string, unknown>)['arm_version'];
  return typeof version === 'string' || typeof version === 'number' ? String(version) : undefined;
}
