/**
 * Pure rules behind the device facts: balena's arch names, a default device type, os-release parsing,
 * and which interfaces count as the device's own (docs/protocol.md#device-information). identity.ts feeds
 * them real data.
 */
import type { NetworkInterfaceInfo } from 'node:os';

/** Node's `process.arch` (+ ARM version) → the arch names balena-cli and base images use. */
export function balenaArch(nodeArch: string, armVersion?: string): string {
  switch (nodeArch) {
    case 'x64':
      return 'amd64';
    case 'arm64':
      return 'aarch64';
    case 'ia32':
      return 'i386';
    case 'arm':
      return armVersion === '6' ? 'rpi' : 'armv7hf';
    default:
      return nodeArch;
  }
}

/** Used when config.json names no device type: the generic type of the arch. */
export function defaultDeviceType(arch: string): string {
  switch (arch) {
    case 'amd64':
      return 'genericx86-64-ext';
    case 'aarch64':
      return 'generic-aarch64';
    case 'armv7hf':
      return 'generic-armv7ahf';
    case 'i386':
      return 'qemux86';
    case 'rpi':
      return 'raspberry-pi';
    default:
      return `generic-${arch}`;
  }
}

/** `KEY=value` / `KEY="quoted value"` lines; comments and malformed lines are skipped. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const match = /^\s*([A-Za-z0-9_]+)=(.*)$/.exec(raw);
    if (!match) continue;
    let value = match[2]!.trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\(["\\$`])/g, '$1');
    }
    out[match[1]!] = value;
  }
  return out;
}

/** Interfaces that are not the device's own network presence: engine bridges, VPN, loopback, … */
export const EXCLUDED_INTERFACE =
  /^(?:(?:balena|docker|rce|tun)[0-9]+|tun[0-9]+|resin-vpn|lo|resin-dns|supervisor0|balena-redsocks|resin-redsocks|br-[0-9a-f]{12})$/;

/** Non-internal IPv4 and global IPv6 (scope id 0) addresses of the device's own interfaces. */
export function presenceAddresses(
  interfaces: Record<string, NetworkInterfaceInfo[] | undefined>,
): string[] {
  const out: string[] = [];
  for (const [name, addrs] of Object.entries(interfaces)) {
    if (EXCLUDED_INTERFACE.test(name)) continue;
    for (const a of addrs ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv4' || (a.family === 'IPv6' && a.scopeid === 0)) out.push(a.address);
    }
  }
  return [...new Set(out)];
}
