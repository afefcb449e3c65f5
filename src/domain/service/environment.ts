/**
 * Container environment (docs/protocol.md#injected-environment): agent defaults, then the user's values, then
 * feature values.
 */
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

function defaults(id: EnvIdentity, ctx: NormaliseContext, env: Map<string, string>): void {
  const perPrefix: Array<[string, string]> = [
    ['APP_ID', String(id.appId)],
    ['APP_UUID', id.appUuid],
    ['APP_NAME', id.appName],
    ['SERVICE_NAME', id.serviceName],
    ['DEVICE_UUID', ctx.deviceUuid],
    ['DEVICE_TYPE', ctx.deviceType],
    ['DEVICE_ARCH', ctx.deviceArch],
    ['HOST_OS_VERSION', ctx.osVersion],
    ['APP_LOCK_PATH', '/tmp/balena/updates.lock'],
    ['SERVICE_KILL_ME_PATH', '/tmp/balena/handover-complete'],
  ];
  for (const prefix of ['BALENA', 'RESIN']) {
    for (const [key, value] of perPrefix) env.set(`${prefix}_${key}`, value);
    env.set(prefix, '1');
  }
  env.set('BALENA_SERVICE_HANDOVER_COMPLETE_PATH', '/tmp/balena/handover-complete');
  env.set('USER', 'root');
}

export interface EnvParts {
  user: Readonly<Record<string, string>>;
  /** Feature values that must win over the user's. */
  forced: Readonly<Record<string, string>>;
  /** Feature values the user may override. */
  fallbacks: Readonly<Record<string, string>>;
}

const byKey = ([a]: [string, string], [b]: [string, string]): number =>
  a < b ? -1 : a > b ? 1 : 0;

/**
 * The full environment as `KEY=value` lines sorted by key (DEVICE_NAME_AT_INIT included), so the
 * order the engine is given does not depend on how the target was written.
 */
export function serviceEnvironment(
  id: EnvIdentity,
  parts: EnvParts,
  ctx: NormaliseContext,
): string[] {
  const env = new Map<string, string>();
  defaults(id, ctx, env);
  for (const layer of [parts.fallbacks, parts.user, parts.forced])
    for (const key of Object.keys(layer)) env.set(key, layer[key]!);
  for (const key of DEVICE_NAME_AT_INIT_VARS) env.set(key, ctx.deviceName);
  return [...env].sort(byKey).map(([key, value]) => `${key}=${value}`);
}
