/** Container environment (reference §7.1): agent defaults, then the user's values, then feature values. */
import type { NormaliseContext } from '../context.js';

export interface EnvIdentity {
  appId: number;
  appUuid: string;
  appName: string;
  serviceName: string;
}

/** Variables that change whenever the device is renamed; injected at create but never compared. */
export const DEVICE_NAME_AT_INIT_VARS = [
  'BALENA_DEVICE_NAME_AT_INIT',
  'RESIN_DEVICE_NAME_AT_INIT',
] as const;

export function isDeviceNameAtInit(key: string): boolean {
  return key.endsWith('_DEVICE_NAME_AT_INIT');
}

function defaults(id: EnvIdentity, ctx: NormaliseContext): Record<string, string> {
  const env: Record<string, string> = {};
  const perPrefix: Record<string, string> = {
    APP_ID: String(id.appId),
    APP_UUID: id.appUuid,
    APP_NAME: id.appName,
    SERVICE_NAME: id.serviceName,
    DEVICE_UUID: ctx.deviceUuid,
    DEVICE_TYPE: ctx.deviceType,
    DEVICE_ARCH: ctx.deviceArch,
    HOST_OS_VERSION: ctx.osVersion,
    APP_LOCK_PATH: '/tmp/balena/updates.lock',
    SERVICE_KILL_ME_PATH: '/tmp/balena/handover-complete',
  };
  for (const prefix of ['BALENA', 'RESIN']) {
    for (const [key, value] of Object.entries(perPrefix)) env[`${prefix}_${key}`] = value;
    env[prefix] = '1';
  }
  env['BALENA_SERVICE_HANDOVER_COMPLETE_PATH'] = '/tmp/balena/handover-complete';
  env['USER'] = 'root';
  return env;
}

export interface EnvParts {
  user: Readonly<Record<string, string>>;
  /** Feature values that must win over the user's. */
  forced: Readonly<Record<string, string>>;
  /** Feature values the user may override. */
  fallbacks: Readonly<Record<string, string>>;
}

/** The full environment as a record (DEVICE_NAME_AT_INIT included). */
export function serviceEnvironment(
  id: EnvIdentity,
  parts: EnvParts,
  ctx: NormaliseContext,
): Record<string, string> {
  const env = { ...defaults(id, ctx), ...parts.fallbacks, ...parts.user, ...parts.forced };
  for (const key of DEVICE_NAME_AT_INIT_VARS) env[key] = ctx.deviceName;
  return env;
}

/** `KEY=value` lines sorted by key: the order the engine is given does not depend on how the target was written. */
export function toEnvList(env: Readonly<Record<string, string>>): string[] {
  return Object.keys(env)
    .sort()
    .map((key) => `${key}=${env[key]}`);
}
