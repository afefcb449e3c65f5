/**
 * The two string keys bosun builds from a service's identity, as branded types with one constructor
 * each, so that one cannot be passed where the other is meant and the format lives in one place:
 * - ServiceKey `<appUuid>/<service>`: backoff, crash windows, held-stopped services, status errors;
 * - LockKey `<appId>/<service>`: update locks (lock file paths are keyed by the numeric app id).
 */
declare const serviceKeyBrand: unique symbol;
declare const lockKeyBrand: unique symbol;

export type ServiceKey = string & { readonly [serviceKeyBrand]: true };
export type LockKey = string & { readonly [lockKeyBrand]: true };

export function serviceKey(appUuid: string, serviceName: string): ServiceKey {
  return `${appUuid}/${serviceName}` as ServiceKey;
}

export function lockKey(appId: number, serviceName: string): LockKey {
  return `${appId}/${serviceName}` as LockKey;
}
