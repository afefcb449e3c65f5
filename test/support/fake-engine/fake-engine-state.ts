/**
 * FakeEngine's records and the lookups the engine does on them (by id, name or unique id prefix;
 * label filters). Kept apart from the operations so fake-engine.ts reads as engine behaviour.
 */
import type { ContainerCreateSpec } from '../../../src/domain/container-spec.js';
import { BosunError } from '../../../src/shared/errors.js';
import type {
  ContainerInfo,
  ContainerLogLine,
  ImageInfo,
  NetworkInfo,
} from '../../../src/engine/port.js';

export interface FakeProcess {
  /** The process traps SIGTERM and carries on: a stop ends in SIGKILL after the timeout (exit 137). */
  ignoresSigterm?: boolean;
  /** Exit status when SIGTERM ends it (default 0: a process that shuts down cleanly). */
  exitCodeOnSigterm?: number;
  /** Lines it prints on stdout when it starts (what containerLogs then returns). */
  output?: string[];
  /** It exits by itself with this status just after starting (a one-shot command); default: runs on. */
  exitsWith?: number;
}

export interface FakeContainer {
  id: string;
  name: string;
  spec: ContainerCreateSpec;
  imageId: string;
  state: ContainerInfo['state'];
  health: ContainerInfo['health'];
  exitCode: number | undefined;
  createdAt: string;
  startedAt: string | undefined;
  finishedAt: string | undefined;
  restartPolicy: ContainerCreateSpec['HostConfig']['RestartPolicy']['Name'];
  /** Configured networks (the engine keeps them while stopped; endpoints are live only while running). */
  networks: Map<string, { aliases: string[]; ipv4Address: string | undefined }>;
  /** Engine volume names mounted. */
  volumes: string[];
  process: FakeProcess;
  logs: ContainerLogLine[];
  /** Set by stop/kill: the engine does not restart what a user stopped. */
  manuallyStopped: boolean;
  /** Restarts by policy since the last user start: the engine's restart delay doubles with each. */
  restartCount: number;
}

export interface FakeNetwork {
  info: Omit<NetworkInfo, 'containers'>;
  builtin: boolean;
}

export interface FakeImage {
  info: ImageInfo;
  layers: string[];
}

export const BUILTIN_NETWORKS = ['bridge', 'host', 'none'] as const;

export function notFound(kind: string, ref: string): BosunError {
  return new BosunError('NOT_FOUND', `No such ${kind}: ${ref}`, { details: { [kind]: ref } });
}

/** By exact id, by name, or by an unambiguous id prefix: how the engine resolves references. */
export function resolveBy<T>(
  items: Iterable<T>,
  ref: string,
  idOf: (item: T) => string,
  nameOf: (item: T) => string,
): T | undefined {
  const all = [...items];
  const name = ref.replace(/^\//, '');
  const exact = all.find((i) => idOf(i) === ref || nameOf(i) === name);
  if (exact !== undefined) return exact;
  const bare = ref.replace(/^sha256:/, '');
  if (bare.length < 1) return undefined;
  const byPrefix = all.filter((i) =>
    idOf(i)
      .replace(/^sha256:/, '')
      .startsWith(bare),
  );
  return byPrefix.length === 1 ? byPrefix[0] : undefined;
}

/** `key` (present) or `key=value` (equal), all of them: the engine's `label` filter. */
export function matchesLabels(
  labels: Record<string, string>,
  filters: string[] | undefined,
): boolean {
  return (filters ?? []).every((filter) => {
    const eq = filter.indexOf('=');
    if (eq === -1) return Object.hasOwn(labels, filter);
    return labels[filter.slice(0, eq)] === filter.slice(eq + 1);
  });
}

const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function assertValidName(kind: string, name: string): void {
  if (!VALID_NAME.test(name)) {
    throw new BosunError(
      'ENGINE_ERROR',
      `Invalid ${kind} name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
    );
  }
}

/** Named volumes a create spec uses (Mounts of type volume, and `name:/path` binds). */
export function namedVolumesOf(spec: ContainerCreateSpec): string[] {
  const names = new Set<string>();
  for (const mount of spec.HostConfig.Mounts ?? []) {
    if (mount.Type === 'volume' && mount.Source) names.add(mount.Source);
  }
  for (const bind of spec.HostConfig.Binds ?? []) {
    const source = bind.split(':')[0] ?? '';
    if (source !== '' && !source.startsWith('/')) names.add(source);
  }
  return [...names];
}

/** Signal names the engine accepts, as the numbers its events carry. */
export function signalNumber(signal: string): string {
  const name = signal.toUpperCase().replace(/^SIG/, '');
  const table: Record<string, string> = {
    HUP: '1',
    INT: '2',
    QUIT: '3',
    KILL: '9',
    USR1: '10',
    USR2: '12',
    TERM: '15',
  };
  return /^\d+$/.test(name) ? name : (table[name] ?? name);
}
