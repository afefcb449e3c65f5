/**
 * Builds the DeviceIdentity at start-up from the host's own files: device type and arch from the boot
 * partition's device-type.json (BOSUN_DEVICE_TYPE_PATH, default next to config.json), OS facts from
 * os-release (BOSUN_OS_RELEASE_PATH, default /etc/os-release; entry.sh points it at the host's). Off
 * balenaOS both may be missing: the arch is then detected from this Node and the device type comes
 * from config.json or the arch's generic type. A broken device-type.json is logged and ignored.
 */
import { dirname, join } from 'node:path';
import type { Logger } from '../shared/logger.js';
import { resolveDeviceType } from './host-os-facts.js';
import { DeviceIdentity } from './identity.js';

export interface LoadIdentityOptions {
  env: Readonly<Record<string, string | undefined>>;
  configPath: string;
  configDeviceType: string | undefined;
  configHostname: string | undefined;
  developmentMode: boolean | undefined;
  logger: Logger;
}

export async function loadDeviceIdentity(options: LoadIdentityOptions): Promise<DeviceIdentity> {
  const { env } = options;
  const deviceTypePath =
    nonEmpty(env['BOSUN_DEVICE_TYPE_PATH']) ??
    join(dirname(options.configPath), 'device-type.json');
  const osReleasePath = nonEmpty(env['BOSUN_OS_RELEASE_PATH']) ?? '/etc/os-release';
  const resolution = await resolveDeviceType({
    deviceTypePath,
    nodeArch: process.arch,
  });
  const log = options.logger.child({ component: 'device' });
  if (resolution.problem !== undefined)
    log.warn('device-type.invalid', { path: deviceTypePath, problem: resolution.problem });
  const identity = new DeviceIdentity({
    configDeviceType: resolution.deviceType ?? options.configDeviceType,
    configHostname: options.configHostname,
    ...(resolution.source === 'device-type.json' ? { arch: resolution.arch } : {}),
    developmentMode: options.developmentMode,
    osReleasePath,
  });
  log.info('device.identity', {
    deviceType: identity.deviceType,
    arch: identity.arch,
    source: resolution.source,
    osVersion: (await identity.osVersion()) ?? null,
    osVariant: await identity.osVariant(),
  });
  return identity;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
