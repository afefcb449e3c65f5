/**
 * Volumes and binds of a service (docs/protocol.md#volumes-and-binds): named volumes get their `<appId>_`
 * engine name, the lock directory is bound at `/tmp/balena` and `/tmp/resin`, feature binds are appended.
 */
import type { ServiceVolume } from '../compose/volumes.js';
import type { MountSpec } from '../container-spec.js';
import { volumeEngineName } from '../names.js';

export interface ServiceMounts {
  binds: string[];
  mounts: MountSpec[];
  /** Anonymous volumes (Config.Volumes keys). */
  anonymous: string[];
  /** Logical app volume names used. */
  volumes: string[];
}

/** Host directory holding a service's update lock and hand-over files. */
export function lockDirectory(lockRoot: string, appId: number, serviceName: string): string {
  return `${lockRoot.replace(/\/+$/, '')}/services/${appId}/${serviceName}`;
}

export function serviceMounts(
  volumes: readonly ServiceVolume[],
  appId: number,
  serviceName: string,
  lockRoot: string,
): ServiceMounts {
  const result: ServiceMounts = { binds: [], mounts: [], anonymous: [], volumes: [] };
  for (const volume of volumes) {
    switch (volume.kind) {
      case 'named':
        result.binds.push(
          `${volumeEngineName(appId, volume.name)}:${volume.target}${volume.mode === undefined ? '' : `:${volume.mode}`}`,
        );
        result.volumes.push(volume.name);
        break;
      case 'anonymous':
        result.anonymous.push(volume.target);
        break;
      case 'mount': {
        const mount: MountSpec = { Type: volume.type, Target: volume.target };
        if (volume.source !== undefined) {
          mount.Source = volumeEngineName(appId, volume.source);
          result.volumes.push(volume.source);
        }
        if (volume.readOnly) mount.ReadOnly = true;
        if (volume.noCopy) mount.VolumeOptions = { NoCopy: true };
        if (volume.sizeBytes !== undefined) mount.TmpfsOptions = { SizeBytes: volume.sizeBytes };
        result.mounts.push(mount);
        break;
      }
    }
  }
  const lockDir = lockDirectory(lockRoot, appId, serviceName);
  result.binds.push(`${lockDir}:/tmp/resin`, `${lockDir}:/tmp/balena`);
  result.volumes = [...new Set(result.volumes)].sort();
  return result;
}
