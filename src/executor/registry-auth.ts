/**
 * Registry credentials for pulls. balena convention: images on the cloud's registry are pulled as user
 * `d_<deviceUuid>` with the device API key as password; other registries use the credentials configured
 * per registry host. Config is read through a function on every pull so a rotated key applies at once.
 */
import type { RegistryAuth } from '../engine/port.js';
import type { RegistryAuthProvider } from './ports.js';

export interface RegistryCredentials {
  deviceUuid?: string | undefined;
  deviceApiKey?: string | undefined;
  /** Host of the cloud's registry, e.g. `registry2.balena-cloud.com`. */
  cloudRegistry?: string | undefined;
  /** Per registry host (`host[:port]`). */
  registries?: Record<string, { username: string; password: string }> | undefined;
}

/** Registry host of an image reference, or undefined for Docker Hub style references (`repo:tag`). */
export function registryOf(image: string): string | undefined {
  const slash = image.indexOf('/');
  if (slash < 0) return undefined;
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : undefined;
}

export class RegistryAuthResolver implements RegistryAuthProvider {
  constructor(private readonly credentials: () => RegistryCredentials) {}

  authFor(image: string): RegistryAuth | undefined {
    const registry = registryOf(image);
    if (registry === undefined) return undefined;
    const creds = this.credentials();
    const configured = creds.registries?.[registry];
    if (configured !== undefined)
      return {
        username: configured.username,
        password: configured.password,
        serveraddress: registry,
      };
    if (
      registry === creds.cloudRegistry &&
      creds.deviceUuid !== undefined &&
      creds.deviceApiKey !== undefined
    ) {
      return {
        username: `d_${creds.deviceUuid}`,
        password: creds.deviceApiKey,
        serveraddress: registry,
      };
    }
    return undefined;
  }
}
