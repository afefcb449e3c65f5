/**
 * Small pure helpers of the Docker engine adapter: request bodies and answers it builds or reads.
 * Kept apart so docker-engine.ts stays one concept (and under 500 lines).
 */
import type { EngineStorageInfo, RegistryAuth } from './port.js';

export function labelFilter(labels: string[] | undefined): Record<string, unknown> {
  return labels === undefined || labels.length === 0 ? {} : { filters: { label: labels } };
}

export function registryAuthHeader(auth: RegistryAuth): Record<string, string> {
  return { username: auth.username, password: auth.password, serveraddress: auth.serveraddress };
}

export function pullErrorText(message: Record<string, unknown>): string {
  const detail = message['errorDetail'] as { message?: unknown } | undefined;
  if (typeof detail?.message === 'string') return detail.message;
  return typeof message['error'] === 'string' ? message['error'] : JSON.stringify(message);
}

/** `GET /info`: the data root and the registries the engine reaches without TLS. */
export function storageInfoFrom(info: {
  DockerRootDir?: string;
  RegistryConfig?: { IndexConfigs?: Record<string, { Name?: string; Secure?: boolean }> };
}): EngineStorageInfo {
  const insecure = Object.values(info.RegistryConfig?.IndexConfigs ?? {})
    .filter((c) => c.Secure === false && typeof c.Name === 'string')
    .map((c) => c.Name as string);
  return { dataRoot: info.DockerRootDir ?? '', insecureRegistries: insecure };
}

/** An image inspect's `RootFS.Layers` (diff ids, base first); nothing when the engine leaves it out. */
export function layersFrom(image: { RootFS?: { Layers?: unknown } }): string[] {
  const layers = image.RootFS?.Layers;
  return Array.isArray(layers) ? layers.filter((l): l is string => typeof l === 'string') : [];
}
