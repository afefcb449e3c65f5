/**
 * FakeEngine's volumes, with the engine's rules: creating an existing volume returns it (a different
 * driver is a conflict), and a volume any container mounts, running or not, cannot be removed.
 */
import type { VolumeCreateSpec } from '../../../src/domain/container-spec.js';
import type { Clock } from '../../../src/shared/clock.js';
import { BosunError } from '../../../src/shared/errors.js';
import { matchesLabels } from './fake-engine-state.js';
import type { EngineEvent, VolumeInfo } from '../../../src/engine/port.js';

export class FakeVolumeStore {
  private readonly volumes = new Map<string, VolumeInfo>();

  constructor(
    private readonly clock: Clock,
    private readonly emit: (event: EngineEvent) => void,
  ) {}

  list(labels: string[] | undefined): VolumeInfo[] {
    return [...this.volumes.values()]
      .filter((v) => matchesLabels(v.labels, labels))
      .map((v) => structuredClone(v));
  }

  inspect(name: string): VolumeInfo {
    return structuredClone(this.get(name));
  }

  create(spec: VolumeCreateSpec): VolumeInfo {
    const existing = this.volumes.get(spec.Name);
    if (existing !== undefined) {
      if (existing.driver !== (spec.Driver || 'local')) {
        throw new BosunError(
          'CONFLICT',
          `create ${spec.Name}: volume name must be unique (driver ${existing.driver})`,
        );
      }
      return structuredClone(existing);
    }
    const volume: VolumeInfo = {
      name: spec.Name,
      driver: spec.Driver || 'local',
      labels: { ...spec.Labels },
      mountpoint: `/var/lib/docker/volumes/${spec.Name}/_data`,
      options: { ...(spec.DriverOpts ?? {}) },
    };
    this.volumes.set(spec.Name, volume);
    this.emit({ type: 'volume', action: 'create', id: spec.Name, time: this.clock.now() });
    return structuredClone(volume);
  }

  /** `users` are the containers mounting it; each of them pins it. */
  remove(name: string, users: string[]): void {
    const volume = this.get(name);
    if (users.length > 0) {
      throw new BosunError(
        'CONFLICT',
        `remove ${volume.name}: volume is in use - [${users.join(', ')}]`,
      );
    }
    this.volumes.delete(volume.name);
    this.emit({ type: 'volume', action: 'destroy', id: volume.name, time: this.clock.now() });
  }

  private get(name: string): VolumeInfo {
    const volume = this.volumes.get(name);
    if (volume === undefined) {
      throw new BosunError('NOT_FOUND', `get ${name}: no such volume`, {
        details: { volume: name },
      });
    }
    return volume;
  }
}
