/**
 * Release-level (top-level compose) `networks` and `volumes` definitions
 * (docs/protocol.md#networks-and-volumes). Unknown keys are warned about and ignored; `external` and custom
 * `name` are rejected: bosun owns every network and volume of an app, under balena's names, and cannot attach
 * to ones it did not create.
 *
 * A named volume of the `local` driver whose `driver_opts` make the engine mount a host path
 * (`type: none, o: bind, device: /etc`, or any `o` with `bind`/`rbind`, or a `device` that is a host path
 * or block device) is REJECTED. balena-supervisor passes `driver_opts` to the engine unchecked [quirk],
 * which lets a release bypass its own "no bind mounts" rule (compose binds are ignored there and
 * rejected here, volumes.ts), so any release could mount `/etc` or the root disk writable. Host access stays
 * with the io.balena.features.* labels. Network mounts (`device: :/export` for NFS, `//server/share` for
 * CIFS), tmpfs and other drivers keep working.
 */
import * as z from 'zod';
import { lazy, type Built } from '../../shared/lazy.js';
import type { IssueCollector } from '../issues.js';
import { addZodIssues } from '../zod-issues.js';
import { Bool, KeyValues, Str, StrOrNum } from './scalars.js';

const Options = lazy(() => z.record(z.string(), StrOrNum()));

const IpamConfig = lazy(() =>
  z.object({
    subnet: Str().optional(),
    gateway: Str().optional(),
    ip_range: Str().optional(),
    aux_addresses: z.record(z.string(), Str()).optional(),
  }),
);

const NetworkDefinitionSchema = lazy(() =>
  z.object({
    driver: Str().optional(),
    driver_opts: Options().optional(),
    ipam: z
      .object({
        driver: Str().optional(),
        config: z.array(IpamConfig()).optional(),
        options: Options().optional(),
      })
      .optional(),
    enable_ipv6: Bool().optional(),
    internal: Bool().optional(),
    config_only: Bool().optional(),
    labels: KeyValues().optional(),
  }),
);

const VolumeDefinitionSchema = lazy(() =>
  z.object({
    driver: Str().optional(),
    driver_opts: Options().optional(),
    labels: KeyValues().optional(),
  }),
);

const REJECTED_KEYS: Record<string, string> = {
  external:
    'external networks and volumes are not supported: bosun creates and owns every one an app uses',
  name: 'custom engine names are not supported: names are <app>_<name> so that balena-supervisor resources are adopted',
};

export type NetworkDefinition = Omit<z.output<Built<typeof NetworkDefinitionSchema>>, 'labels'> & {
  labels: Record<string, string>;
};
export type VolumeDefinition = Omit<z.output<Built<typeof VolumeDefinitionSchema>>, 'labels'> & {
  labels: Record<string, string>;
};

function parseDefinition<
  S extends Built<typeof NetworkDefinitionSchema> | Built<typeof VolumeDefinitionSchema>,
>(
  schema: S,
  raw: Readonly<Record<string, unknown>> | null,
  issues: IssueCollector,
): (Omit<z.output<S>, 'labels'> & { labels: Record<string, string> }) | undefined {
  const input = raw ?? {};
  for (const key of Object.keys(input)) {
    if (Object.hasOwn(REJECTED_KEYS, key)) issues.issue([key], REJECTED_KEYS[key]!);
    else if (!Object.hasOwn(schema.shape, key) && key !== 'attachable')
      issues.warn([key], 'unsupported key, ignored');
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    addZodIssues(issues, parsed.error);
    return undefined;
  }
  const { labels, ...rest } = parsed.data;
  return { ...(rest as Omit<z.output<S>, 'labels'>), labels: labels?.values ?? {} };
}

export function parseNetworkDefinition(
  raw: Readonly<Record<string, unknown>> | null,
  issues: IssueCollector,
): NetworkDefinition | undefined {
  const def = parseDefinition(NetworkDefinitionSchema(), raw, issues);
  for (const [index, entry] of (def?.ipam?.config ?? []).entries()) {
    if (entry.subnet === undefined || entry.gateway === undefined)
      issues.warn(
        ['ipam', 'config', index],
        'an IPAM entry without both subnet and gateway may not be created as intended',
      );
  }
  return def;
}

export function parseVolumeDefinition(
  raw: Readonly<Record<string, unknown>> | null,
  issues: IssueCollector,
): VolumeDefinition | undefined {
  const def = parseDefinition(VolumeDefinitionSchema(), raw, issues);
  if (def !== undefined) checkHostMount(def, issues);
  return def;
}

const HOST_MOUNT_REASON =
  'would mount a host path into the app; bind mounts are not supported (host paths are only reachable through io.balena.features.* labels)';

/** Refuses local-driver options that turn a named volume into a bind mount of the host. */
function checkHostMount(def: VolumeDefinition, issues: IssueCollector): void {
  if (def.driver !== undefined && def.driver !== 'local') return; // a plugin's options are its own
  const opts = def.driver_opts ?? {};
  const o = opts['o'];
  if (o !== undefined) {
    const flags = String(o)
      .split(',')
      .map((flag) => flag.trim().toLowerCase());
    if (flags.includes('bind') || flags.includes('rbind'))
      issues.issue(['driver_opts', 'o'], `"${String(o)}" ${HOST_MOUNT_REASON}`);
  }
  const device = opts['device'];
  // `/path` is a host directory or block device; `//server/share` (CIFS) and `host:/export` (NFS) are not.
  if (typeof device === 'string' && device.startsWith('/') && !device.startsWith('//'))
    issues.issue(['driver_opts', 'device'], `"${device}" ${HOST_MOUNT_REASON}`);
}
