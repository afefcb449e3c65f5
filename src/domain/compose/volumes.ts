/**
 * Compose service `volumes` (docs/protocol.md#volumes-and-binds): named volumes (`data:/data[:ro]` or long
 * `type: volume`), anonymous volumes (`/cache`), and long-syntax `tmpfs`.
 *
 * Bind mounts (`/host:/path`, `./dir:/path`, `type: bind`) are REJECTED. balena ignores them with only a
 * warning [quirk], so a service that expects its data on the host silently writes into its container and
 * loses it on the next update; failing the target tells the developer at push time instead. Host access
 * is available through the feature labels (docs/protocol.md#feature-labels).
 */
import * as z from 'zod';
import { lazy, type Built } from '../../shared/lazy.js';
import { Bool, Str } from './scalars.js';
import { parseMemoryBytes } from './scalars.js';

export type ServiceVolume =
  /** Short syntax `name:/path[:mode]`. */
  | { kind: 'named'; name: string; target: string; mode: string | undefined }
  /** Short syntax `/path`. */
  | { kind: 'anonymous'; target: string }
  /** Long syntax; `source` undefined for an anonymous volume or a tmpfs. */
  | {
      kind: 'mount';
      type: 'volume' | 'tmpfs';
      source: string | undefined;
      target: string;
      readOnly: boolean;
      noCopy: boolean;
      sizeBytes: number | undefined;
    };

const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const MODE = /^[a-zA-Z]+(?:,[a-zA-Z]+)*$/;
const BIND_REASON =
  'bind mounts are not supported (host paths are only reachable through io.balena.features.* labels)';

function isHostPath(source: string): boolean {
  return source.startsWith('/') || source.startsWith('.') || source.startsWith('~');
}

function parseShort(spec: string): ServiceVolume | string {
  const parts = spec.split(':');
  if (parts.length === 1) {
    return spec.startsWith('/')
      ? { kind: 'anonymous', target: spec }
      : `"${spec}" is not an absolute container path`;
  }
  if (parts.length > 3) return `"${spec}" has too many ":" (use name:/path[:mode])`;
  const [source, target, mode] = parts as [string, string, string | undefined];
  if (isHostPath(source)) return `"${spec}": ${BIND_REASON}`;
  if (!VOLUME_NAME.test(source)) return `"${source}" is not a valid volume name`;
  if (!target.startsWith('/')) return `"${target}" is not an absolute container path`;
  if (mode !== undefined && !MODE.test(mode))
    return `"${mode}" is not a volume mode (e.g. ro, rw, nocopy)`;
  return { kind: 'named', name: source, target, mode };
}

const LongVolume = lazy(() =>
  z.object({
    type: z.string({ error: 'type is required (volume or tmpfs)' }),
    source: Str().optional(),
    target: Str(),
    read_only: Bool().optional(),
    volume: z.object({ nocopy: Bool().optional() }).optional(),
    tmpfs: z.object({ size: z.union([z.string(), z.number()]).optional() }).optional(),
    bind: z.record(z.string(), z.unknown()).optional(),
    consistency: Str().optional(),
  }),
);

function parseLong(entry: z.output<Built<typeof LongVolume>>): ServiceVolume | string {
  if (entry.type === 'bind') return BIND_REASON;
  if (entry.type !== 'volume' && entry.type !== 'tmpfs')
    return `type "${entry.type}" is not supported (use volume or tmpfs)`;
  if (!entry.target.startsWith('/'))
    return `target "${entry.target}" is not an absolute container path`;
  let sizeBytes: number | undefined;
  if (entry.tmpfs?.size !== undefined) {
    sizeBytes = parseMemoryBytes(entry.tmpfs.size);
    if (sizeBytes === undefined)
      return `tmpfs size ${JSON.stringify(entry.tmpfs.size)} is not a memory size`;
  }
  const source = entry.source === '' ? undefined : entry.source;
  if (entry.type === 'tmpfs' && source !== undefined) return 'a tmpfs mount has no source';
  if (source !== undefined && isHostPath(source)) return BIND_REASON;
  if (source !== undefined && !VOLUME_NAME.test(source))
    return `"${source}" is not a valid volume name`;
  return {
    kind: 'mount',
    type: entry.type,
    source,
    target: entry.target,
    readOnly: entry.read_only ?? false,
    noCopy: entry.volume?.nocopy ?? false,
    sizeBytes,
  };
}

export const ServiceVolumes = lazy(() =>
  z
    .array(
      z.union([Str(), LongVolume()], {
        error: 'must be "name:/path[:mode]", "/path" or {type, source, target}',
      }),
      { error: 'must be a list' },
    )
    .transform((entries, ctx) => {
      const volumes: ServiceVolume[] = [];
      entries.forEach((entry, index) => {
        const parsed = typeof entry === 'string' ? parseShort(entry) : parseLong(entry);
        if (typeof parsed === 'string')
          ctx.addIssue({ code: 'custom', message: parsed, path: [index] });
        else volumes.push(parsed);
      });
      return volumes;
    }),
);
