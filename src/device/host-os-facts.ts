/**
 * What the host says about itself: device type and architecture from the boot partition's
 * `device-type.json` (fields `slug`, `arch`, written by balenaOS), OS version and variant from
 * os-release (`PRETTY_NAME`; `VARIANT_ID`, else dev/prod from config.json `developmentMode`,
 * docs/protocol.md#device-information). A missing file is normal off balenaOS (development): the caller falls
 * back to what it detects. A broken file is reported with what is wrong and treated as missing — never a
 * crash.
 */
import { balenaArch, parseOsRelease } from './identity-facts.js';
import { readSmallFile } from './small-file.js';

/** Both files are a few hundred bytes; anything near this is not what balenaOS writes. */
const MAX_BYTES = 64 * 1024;
const KNOWN_ARCHES = new Set(['amd64', 'aarch64', 'armv7hf', 'i386', 'rpi']);

export interface DeviceTypeFacts {
  readonly slug: string;
  readonly arch: string;
}

export type FactsRead<T> =
  | { readonly kind: 'found'; readonly facts: T }
  | { readonly kind: 'missing' }
  | { readonly kind: 'invalid'; readonly reason: string };

export async function readDeviceTypeFile(path: string): Promise<FactsRead<DeviceTypeFacts>> {
  const read = await readSmallFile(path, MAX_BYTES);
  if (read.kind === 'missing') return read;
  if (read.kind === 'unreadable') return { kind: 'invalid', reason: read.reason };
  let doc: unknown;
  try {
    doc = JSON.parse(read.text);
  } catch (err) {
    return { kind: 'invalid', reason: `not JSON: ${(err as Error).message}` };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    return { kind: 'invalid', reason: 'not a JSON object' };
  const { slug, arch } = doc as Record<string, unknown>;
  if (typeof slug !== 'string' || !/^[a-z0-9][a-z0-9-]{0,63}$/.test(slug))
    return { kind: 'invalid', reason: `"slug" is not a device type slug: ${JSON.stringify(slug)}` };
  if (typeof arch !== 'string' || !KNOWN_ARCHES.has(arch))
    return {
      kind: 'invalid',
      reason: `"arch" is not one of ${[...KNOWN_ARCHES].join(', ')}: ${JSON.stringify(arch)}`,
    };
  return { kind: 'found', facts: { slug, arch } };
}

export interface OsFacts {
  /** os-release PRETTY_NAME, e.g. `balenaOS 6.1.0`. */
  readonly version: string | undefined;
  /** os-release VARIANT_ID (`prod`/`dev`), when present. */
  readonly variantId: string | undefined;
  /** BALENA_BOARD_REV, else RESIN_BOARD_REV (balenaOS only). */
  readonly boardRev: string | undefined;
}

export async function readOsRelease(path: string): Promise<FactsRead<OsFacts>> {
  const read = await readSmallFile(path, MAX_BYTES, { followRelativeLink: true });
  if (read.kind === 'missing') return read;
  if (read.kind === 'unreadable') return { kind: 'invalid', reason: read.reason };
  if (read.text.includes('\0')) return { kind: 'invalid', reason: 'it contains NUL bytes' };
  const fields = parseOsRelease(read.text);
  const value = (key: string): string | undefined => {
    const v = fields[key]?.trim();
    return v === undefined || v === '' || /[\r\n]/.test(v) ? undefined : v.slice(0, 200);
  };
  if (Object.keys(fields).length === 0) return { kind: 'invalid', reason: 'no KEY=value lines' };
  return {
    kind: 'found',
    facts: {
      version: value('PRETTY_NAME'),
      variantId: value('VARIANT_ID'),
      boardRev: value('BALENA_BOARD_REV') ?? value('RESIN_BOARD_REV'),
    },
  };
}

/** `prod`/`dev` as the cloud expects: VARIANT_ID when it says, else from config.json developmentMode. */
export function osVariant(variantId: string | undefined, developmentMode: boolean): string {
  if (variantId === 'prod' || variantId === 'dev') return variantId;
  if (variantId === 'production') return 'prod';
  if (variantId === 'development') return 'dev';
  return developmentMode ? 'dev' : 'prod';
}

export interface HostOsSources {
  deviceTypePath: string;
  /** process.arch / ARM version of this Node: the development fallback for the arch. */
  nodeArch: string;
  armVersion?: string | undefined;
}

export interface DeviceTypeResolution {
  readonly deviceType: string | undefined;
  readonly arch: string;
  /** Where they came from, and what was wrong with the file when it was broken: for the start-up log. */
  readonly source: 'device-type.json' | 'detected';
  readonly problem?: string;
}

/** device-type.json when it is there and sound; else the arch of this Node (development). */
export async function resolveDeviceType(sources: HostOsSources): Promise<DeviceTypeResolution> {
  const read = await readDeviceTypeFile(sources.deviceTypePath);
  if (read.kind === 'found')
    return { deviceType: read.facts.slug, arch: read.facts.arch, source: 'device-type.json' };
  const arch = balenaArch(sources.nodeArch, sources.armVersion);
  return {
    deviceType: undefined,
    arch,
    source: 'detected',
    ...(read.kind === 'invalid'
      ? { problem: `${sources.deviceTypePath} ignored: ${read.reason}` }
      : {}),
  };
}
