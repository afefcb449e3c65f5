/**
 * One service's compose definition (`composition`, docs/protocol.md#compose-keys): keys are accepted in
 * compose (snake_case) or balena's camelCase spelling; supported fields are validated and converted to engine
 * units; unsupported keys are dropped with a warning rather than rejecting the release.
 * The schemas of compose/ are getters (src/shared/lazy.ts), built when the first target is validated.
 */
import * as z from 'zod';
import { lazy, type Built } from '../../shared/lazy.js';
import type { IssueCollector } from '../issues.js';
import { addZodIssues } from '../zod-issues.js';
import { setOwn } from '../records.js';
import { Healthcheck } from './healthcheck.js';
import { Ports } from './ports.js';
import {
  Bool,
  DurationNs,
  Int,
  KeyValues,
  MemoryBytes,
  Str,
  StrList,
  StrOrList,
  StrOrNum,
} from './scalars.js';
import { DependsOn, ServiceNetworks } from './service-networks.js';
import { splitShellWords } from './shell-words.js';
import { ServiceVolumes } from './volumes.js';

const Command = lazy(() =>
  z.union(
    [
      Str().transform((text, ctx) => {
        const words = splitShellWords(text);
        if (!Array.isArray(words)) {
          ctx.addIssue({ code: 'custom', message: `"${text}" ${words.error}` });
          return z.NEVER;
        }
        return words;
      }),
      StrList(),
    ],
    { error: 'must be a string or a list of strings' },
  ),
);

const Device = lazy(() =>
  Str().transform((spec, ctx) => {
    const [onHost, inContainer, perms, ...rest] = spec.split(':');
    if (
      !onHost?.startsWith('/') ||
      rest.length > 0 ||
      (inContainer !== undefined && !inContainer.startsWith('/')) ||
      (perms !== undefined && !/^[rwm]+$/.test(perms))
    ) {
      ctx.addIssue({
        code: 'custom',
        message: `"${spec}" is not /host/path[:/container/path[:rwm]]`,
      });
      return z.NEVER;
    }
    return {
      PathOnHost: onHost,
      PathInContainer: inContainer ?? onHost,
      CgroupPermissions: perms ?? 'rwm',
    };
  }),
);

/** `host:ip` (or `host=ip`) entries, or a map host → ip; always `host:ip` out, the engine's form. */
const ExtraHosts = lazy(() =>
  z
    .union([StrList(), z.record(z.string(), Str())], {
      error: 'must be a list of "host:ip" or a map of host → ip',
    })
    .transform((value, ctx) => {
      const entries = Array.isArray(value)
        ? value
        : Object.entries(value).map(([host, ip]) => `${host}:${ip}`);
      return entries.map((entry, index) => {
        const sep = /[:=]/.exec(entry);
        if (!sep || sep.index === 0)
          ctx.addIssue({ code: 'custom', message: `"${entry}" is not host:ip`, path: [index] });
        return sep?.[0] === '='
          ? `${entry.slice(0, sep.index)}:${entry.slice(sep.index + 1)}`
          : entry;
      });
    }),
);

const Ulimit = lazy(() =>
  z.union(
    [Int().transform((n) => ({ soft: n, hard: n })), z.object({ soft: Int(), hard: Int() })],
    {
      error: 'must be a number or {soft, hard}',
    },
  ),
);

const Cpus = lazy(() =>
  z
    .union(
      [
        z.number(),
        z
          .string()
          .regex(/^\d+(\.\d+)?$/)
          .transform(Number),
      ],
      { error: 'must be a number of CPUs such as 1.5' },
    )
    .refine((n) => n > 0, 'must be more than 0')
    .transform((n) => Math.round(n * 1e9)),
);

const ComposeServiceSchema = lazy(() =>
  z.strictObject({
    cap_add: StrList().optional(),
    cap_drop: StrList().optional(),
    cgroup_parent: Str().optional(),
    command: Command().optional(),
    cpu_quota: Int().optional(),
    cpu_shares: Int().min(0, 'must not be negative').optional(),
    cpus: Cpus().optional(),
    cpuset: Str().optional(),
    depends_on: DependsOn().optional(),
    devices: z.array(Device(), { error: 'must be a list' }).optional(),
    dns: StrOrList().optional(),
    dns_opt: StrList().optional(),
    dns_search: StrOrList().optional(),
    domainname: Str().optional(),
    entrypoint: Command().optional(),
    environment: KeyValues().optional(),
    extra_hosts: ExtraHosts().optional(),
    group_add: z.array(StrOrNum(), { error: 'must be a list' }).optional(),
    healthcheck: Healthcheck().optional(),
    hostname: Str().optional(),
    image: Str().optional(),
    init: Bool().optional(),
    ipc: Str().optional(),
    labels: KeyValues().optional(),
    mac_address: Str().optional(),
    mem_limit: MemoryBytes().optional(),
    mem_reservation: MemoryBytes().optional(),
    network_mode: Str().min(1, 'must not be empty').optional(),
    networks: ServiceNetworks().optional(),
    oom_kill_disable: Bool().optional(),
    oom_score_adj: Int().min(-1000).max(1000).optional(),
    pid: Str().optional(),
    pids_limit: Int().min(-1).optional(),
    ports: Ports().optional(),
    privileged: Bool().optional(),
    read_only: Bool().optional(),
    restart: Str().optional(),
    running: Bool().optional(),
    security_opt: StrList().optional(),
    shm_size: MemoryBytes().optional(),
    stop_grace_period: DurationNs().optional(),
    stop_signal: StrOrNum().optional(),
    storage_opt: z.record(z.string(), z.unknown()).optional(),
    sysctls: KeyValues().optional(),
    tmpfs: StrOrList().optional(),
    tty: Bool().optional(),
    ulimits: z.record(z.string(), Ulimit()).optional(),
    user: StrOrNum().optional(),
    userns_mode: Str().optional(),
    volumes: ServiceVolumes().optional(),
    working_dir: Str().optional(),
  }),
);

type Parsed = z.output<Built<typeof ComposeServiceSchema>>;
export type RestartPolicyName = 'no' | 'always' | 'on-failure' | 'unless-stopped';

/** The validated compose service, in engine units; `restart` resolved; environment/labels as records. */
export type ComposeService = Omit<
  Parsed,
  'environment' | 'labels' | 'sysctls' | 'restart' | 'storage_opt' | 'image' | 'running'
> & {
  environment: Record<string, string>;
  labels: Record<string, string>;
  sysctls: Record<string, string> | undefined;
  restart: RestartPolicyName;
};

/** The compose keys bosun reads: the schema's own, so the two cannot drift. */
const supportedKeys = lazy(() => new Set(Object.keys(ComposeServiceSchema().shape)));
const ENV_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const LABEL_NAME = /^[!#-&(-_a-~]+$/;
const RESTART = new Set<string>(['no', 'always', 'on-failure', 'unless-stopped']);

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Parses `composition`; issues and warnings go to `issues` (paths relative to the composition). */
export function parseComposeService(
  composition: Readonly<Record<string, unknown>>,
  issues: IssueCollector,
): ComposeService | undefined {
  const input: Record<string, unknown> = {};
  const spelledAs = new Map<string, string>();
  for (const [key, value] of Object.entries(composition)) {
    const name = snakeCase(key);
    if (!supportedKeys().has(name)) {
      issues.warn(
        [key],
        name === 'build'
          ? 'build is done before deploy, ignored'
          : 'unsupported compose key, ignored',
      );
      continue;
    }
    const earlier = spelledAs.get(name);
    if (earlier !== undefined) {
      issues.issue([key], `given twice (as "${earlier}" and "${key}")`);
      continue;
    }
    spelledAs.set(name, key);
    setOwn(input, name, value);
  }
  const parsed = ComposeServiceSchema().safeParse(input);
  if (!parsed.success) {
    // Report paths with the key as it was written, not our snake_case spelling of it.
    const respelled = new z.ZodError(
      parsed.error.issues.map((i) => ({
        ...i,
        path: [spelledAs.get(String(i.path[0])) ?? String(i.path[0]), ...i.path.slice(1)],
      })),
    );
    addZodIssues(issues, respelled);
    return undefined;
  }
  const {
    environment,
    labels,
    sysctls,
    restart,
    storage_opt,
    image: _image,
    running: _running,
    security_opt,
    ...rest
  } = parsed.data;
  const at = (name: string): string => spelledAs.get(name) ?? name;

  for (const key of environment?.unset ?? [])
    issues.warn(
      [at('environment'), key],
      'has no value (compose would take it from the host shell), ignored',
    );
  for (const key of Object.keys(environment?.values ?? {})) {
    if (!ENV_NAME.test(key))
      issues.issue(
        [at('environment'), key],
        'environment variable names must match ^[a-zA-Z_][a-zA-Z0-9_]*$',
      );
  }
  for (const key of labels?.unset ?? [])
    issues.warn([at('labels'), key], 'label without a value, ignored');
  for (const key of Object.keys(labels?.values ?? {})) {
    if (!LABEL_NAME.test(key))
      issues.issue(
        [at('labels'), key],
        'label names must be printable ASCII without spaces or quotes',
      );
  }
  // balena accepts storage_opt and then never passes it to the engine [quirk]: we say so instead.
  if (storage_opt !== undefined)
    issues.warn([at('storage_opt')], 'not supported (balena never applied it either), ignored');

  let policy: RestartPolicyName = 'always';
  if (restart !== undefined) {
    const name = restart.trim().toLowerCase();
    if (RESTART.has(name)) policy = name as RestartPolicyName;
    else
      issues.warn(
        [at('restart')],
        `"${restart}" is not no, always, on-failure or unless-stopped; using always`,
      );
  }
  // SELinux label options are the engine's business and show up on inspect anyway
  // (docs/protocol.md#container-naming).
  const securityOpt = security_opt?.filter((opt) => !opt.startsWith('label='));
  if (security_opt !== undefined && securityOpt!.length !== security_opt.length)
    issues.warn([at('security_opt')], 'label=… options are managed by the engine, ignored');
  if (rest.network_mode?.startsWith('container:')) {
    issues.warn(
      [at('network_mode')],
      'container:<name> is not supported (use service:<name>), ignored',
    );
    delete rest.network_mode;
  }

  return {
    ...rest,
    ...(securityOpt === undefined ? {} : { security_opt: securityOpt }),
    environment: environment?.values ?? {},
    labels: labels?.values ?? {},
    sysctls: sysctls?.values,
    restart: policy,
  };
}
