/**
 * The cloud peer's data: one fleet with its releases, the devices registered to it, and what each device
 * reported. The target state of a device is rendered the way openBalena's `state-get-v3` does (reference
 * docs/protocol.md#what-the-cloud-sends and the recorded fixture): fleet config ← device config sorted by name, the poll interval clamped to
 * the server's minimum, fleet env ← service env ← device env merged into each service, and no `releases`
 * key before the fleet has a release.
 */

export interface PeerService {
  id: number;
  image_id: number;
  /** The registry location the device must pull and echo exactly in its reports. */
  image: string;
  environment: Record<string, string>;
  labels: Record<string, string>;
  composition?: Record<string, unknown>;
}

export interface PeerRelease {
  id: number;
  commit: string;
  services: Record<string, PeerService>;
  /** Top-level compose networks/volumes of the release, as the cloud puts them in the target. */
  networks?: Record<string, unknown>;
  volumes?: Record<string, unknown>;
}

export interface PeerFleet {
  id: number;
  uuid: string;
  name: string;
  releases: PeerRelease[];
  /** The release devices should run; undefined before any release exists. */
  targetCommit: string | undefined;
  config: Record<string, string>;
  env: Record<string, string>;
}

export interface StoredReport {
  at: number;
  body: Record<string, unknown>;
}

export interface PeerDevice {
  id: number;
  uuid: string;
  deviceType: string;
  name: string;
  keys: Set<string>;
  config: Record<string, string>;
  env: Record<string, string>;
  tags: Record<string, string>;
  /** `unknown` until the first target state GET (as the recorded API does). */
  apiHeartbeatState: 'unknown' | 'online';
  heartbeatChangedAt: number | undefined;
  updateStatusAt: number | undefined;
  /** Every accepted PATCH body for this device (decoded), in order. */
  reports: StoredReport[];
  /** Device fields as stored: the merge of accepted reports (metrics only when not throttled). */
  fields: Record<string, unknown>;
  /** Per app uuid: the release the device said it runs (`is_running__release`). */
  runningRelease: Record<string, string>;
  /** Per `<commit>/<service>`: the last reported service status (`image_install`). */
  imageInstalls: Record<string, { status: unknown; download_progress: unknown }>;
  metricsStoredAt: number | undefined;
  registeredAt: number;
}

export const METRIC_FIELDS = [
  'cpu_usage',
  'memory_usage',
  'memory_total',
  'storage_usage',
  'storage_total',
  'storage_block_device',
  'cpu_temp',
  'cpu_id',
] as const;

/** Device report fields and the JSON types the API accepts for them (a wrong type is a 400). */
export const REPORT_FIELD_TYPES: Record<
  string,
  ReadonlyArray<'string' | 'number' | 'boolean' | 'null'>
> = {
  api_port: ['number', 'null'],
  api_secret: ['string', 'null'],
  ip_address: ['string', 'null'],
  mac_address: ['string', 'null'],
  os_version: ['string', 'null'],
  os_variant: ['string', 'null'],
  supervisor_version: ['string', 'null'],
  provisioning_progress: ['number', 'null'],
  provisioning_state: ['string', 'null'],
  status: ['string', 'null'],
  logs_channel: ['string', 'null'],
  cpu_usage: ['number', 'null'],
  memory_usage: ['number', 'null'],
  memory_total: ['number', 'null'],
  storage_usage: ['number', 'null'],
  storage_total: ['number', 'null'],
  storage_block_device: ['string', 'null'],
  cpu_temp: ['number', 'null'],
  cpu_id: ['string', 'null'],
  is_undervolted: ['boolean', 'null'],
  name: ['string', 'null'],
  update_status: ['string', 'null'],
  // Older agents send these; the API ignores them (recorded).
  update_pending: ['boolean', 'null'],
  update_failed: ['boolean', 'null'],
  update_downloaded: ['boolean', 'null'],
};

export class PeerModel {
  readonly devices = new Map<string, PeerDevice>();
  private nextDeviceId = 2;
  private nextVarId = 3;

  constructor(
    readonly fleet: PeerFleet,
    readonly deviceTypes: ReadonlySet<string>,
    readonly minPollIntervalMs: number,
    private readonly nameFor: (uuid: string) => string,
    private readonly now: () => number,
  ) {}

  register(uuid: string, deviceType: string, apiKey: string): PeerDevice {
    const device: PeerDevice = {
      id: this.nextDeviceId++,
      uuid,
      deviceType,
      name: this.nameFor(uuid),
      keys: new Set([apiKey]),
      config: {},
      env: {},
      tags: {},
      apiHeartbeatState: 'unknown',
      heartbeatChangedAt: undefined,
      updateStatusAt: undefined,
      reports: [],
      fields: {},
      runningRelease: {},
      imageInstalls: {},
      metricsStoredAt: undefined,
      registeredAt: this.now(),
    };
    this.devices.set(uuid, device);
    return device;
  }

  byKey(key: string | undefined): PeerDevice | undefined {
    if (key === undefined) return undefined;
    for (const device of this.devices.values()) if (device.keys.has(key)) return device;
    return undefined;
  }

  byId(id: number): PeerDevice | undefined {
    for (const device of this.devices.values()) if (device.id === id) return device;
    return undefined;
  }

  release(commit: string): PeerRelease | undefined {
    return this.fleet.releases.find((r) => r.commit === commit);
  }

  /** Adds (or replaces) a release and makes it the fleet's target. */
  setRelease(release: PeerRelease): void {
    this.fleet.releases = [
      ...this.fleet.releases.filter((r) => r.commit !== release.commit),
      release,
    ];
    this.fleet.targetCommit = release.commit;
  }

  takeVarId(): number {
    return this.nextVarId++;
  }

  /** The v3 target state document of one device. */
  targetState(device: PeerDevice): Record<string, unknown> {
    const { fleet } = this;
    const app: Record<string, unknown> = {
      id: fleet.id,
      name: fleet.name,
      is_host: false,
      class: 'fleet',
    };
    const release = fleet.targetCommit === undefined ? undefined : this.release(fleet.targetCommit);
    if (release !== undefined) {
      const services: Record<string, unknown> = {};
      for (const [name, service] of Object.entries(release.services)) {
        const rendered: Record<string, unknown> = {
          id: service.id,
          image_id: service.image_id,
          image: service.image,
          environment: { ...fleet.env, ...service.environment, ...device.env },
          labels: service.labels,
        };
        if (service.composition !== undefined) rendered['composition'] = service.composition;
        services[name] = rendered;
      }
      const rendered: Record<string, unknown> = { id: release.id, services };
      if (release.networks !== undefined) rendered['networks'] = release.networks;
      if (release.volumes !== undefined) rendered['volumes'] = release.volumes;
      app['releases'] = { [release.commit]: rendered };
    }
    const merged: Record<string, string> = { ...fleet.config, ...device.config };
    const pollKey = Object.keys(merged).find((k) =>
      /^(RESIN|BALENA)_SUPERVISOR_POLL_INTERVAL$/.test(k),
    );
    const poll = Math.max(Number(merged[pollKey ?? ''] ?? 0) || 0, this.minPollIntervalMs);
    if (pollKey === undefined) merged['RESIN_SUPERVISOR_POLL_INTERVAL'] = String(poll);
    else merged[pollKey] = String(poll);
    const config: Record<string, string> = {};
    for (const key of Object.keys(merged).sort()) config[key] = merged[key] ?? '';
    return { [device.uuid]: { name: device.name, apps: { [fleet.uuid]: app }, config } };
  }
}
