/**
 * fast-check generators of valid targets and of messy current states (leftovers of an earlier release:
 * stopped, dead, duplicate, half-handed-over containers, stray networks and images, locks). Targets are
 * "valid" as normalisation would produce them: depends_on is acyclic and only names running services.
 */
import fc from 'fast-check';
import type {
  ContainerState,
  CurrentState,
  DependencyCondition,
  ServiceTarget,
  TargetState,
  UpdateStrategy,
} from '../../src/domain/model.js';
import {
  type AppIdentity,
  app,
  image,
  materialise,
  network,
  release,
  service,
  target,
  volume,
} from './planner-builders.js';
import { seededRandom } from './seeded-random.js';

const APPS: AppIdentity[] = [
  { uuid: 'aaaa', appId: 1 },
  { uuid: 'bbbb', appId: 2 },
  { uuid: 'cccc', appId: 3 },
];
const SERVICES = ['api', 'db', 'web', 'worker'] as const;
const STRATEGIES: UpdateStrategy[] = [
  'download-then-kill',
  'kill-then-download',
  'delete-then-download',
  'hand-over',
];

const serviceSpec = fc.record({
  variant: fc.constantFrom(1, 2),
  configHash: fc.constantFrom('h1', 'h2'),
  strategy: fc.constantFrom(...STRATEGIES),
  running: fc.oneof(
    { weight: 5, arbitrary: fc.constant(true) },
    { weight: 1, arbitrary: fc.constant(false) },
  ),
  oneshot: fc.oneof(
    { weight: 6, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
  host: fc.oneof(
    { weight: 6, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
  backend: fc.boolean(),
  volumes: fc.subarray(['data', 'cache']),
  healthcheck: fc.boolean(),
  dep: fc.option(fc.nat(3), { nil: undefined }),
  depCondition: fc.constantFrom<DependencyCondition>(
    'service_started',
    'service_healthy',
    'service_completed_successfully',
  ),
  handoverTimeoutMs: fc.constantFrom(0, 1500, 3000),
  restart: fc.constantFrom('always' as const, 'unless-stopped' as const),
});

const appSpec = fc.record({
  present: fc.oneof(
    { weight: 4, arbitrary: fc.constant(true) },
    { weight: 1, arbitrary: fc.constant(false) },
  ),
  hasRelease: fc.oneof(
    { weight: 6, arbitrary: fc.constant(true) },
    { weight: 1, arbitrary: fc.constant(false) },
  ),
  commit: fc.constantFrom(1, 2, 3),
  services: fc.array(fc.tuple(fc.constantFrom(...SERVICES), serviceSpec), { maxLength: 4 }),
  defaultNet: fc.constantFrom('n1', 'n2'),
  backendNet: fc.constantFrom('n1', 'n2'),
});

export const arbTarget: fc.Arbitrary<TargetState> = fc
  .tuple(appSpec, appSpec, appSpec)
  .map((specs) => {
    const apps = [];
    for (const [i, spec] of specs.entries()) {
      const identity = APPS[i] as AppIdentity;
      if (!spec.present) continue;
      if (!spec.hasRelease) {
        apps.push(app(identity, undefined));
        continue;
      }
      const rel = { app: identity, commit: `c${spec.commit}`, releaseId: spec.commit };
      const seen = new Set<string>();
      const services: ServiceTarget[] = [];
      for (const [name, o] of spec.services) {
        if (seen.has(name)) continue;
        seen.add(name);
        const dependsOn: Record<string, DependencyCondition> = {};
        const dep =
          o.dep === undefined || services.length === 0
            ? undefined
            : services[o.dep % services.length];
        if (dep !== undefined && dep.running) {
          const depOneshot = dep.createSpec.Labels['test.oneshot'] !== undefined;
          const condition =
            o.depCondition === 'service_completed_successfully' && !depOneshot
              ? 'service_started'
              : o.depCondition === 'service_healthy' && depOneshot
                ? 'service_completed_successfully'
                : o.depCondition;
          dependsOn[dep.serviceName] = condition;
        }
        services.push(
          service(rel, name, {
            image: `registry.test/${identity.uuid}-${name}:${o.variant}`,
            imageId: identity.appId * 1000 + services.length * 100 + o.variant * 10 + spec.commit,
            // Like the real config hash, it covers every setting that lands in the container's config.
            configHash: [
              o.configHash,
              o.oneshot ? 'oneshot' : o.restart,
              o.host,
              o.backend,
              o.volumes.join('+'),
              o.healthcheck,
            ].join('|'),
            updateStrategy: o.strategy,
            running: o.running,
            networkMode: o.host ? 'host' : `${identity.uuid}_default`,
            networks: o.host ? [] : o.backend ? ['default', 'backend'] : ['default'],
            volumes: o.volumes,
            healthcheck: o.healthcheck,
            handoverTimeoutMs: o.handoverTimeoutMs,
            dependsOn,
            ...(o.oneshot
              ? { labels: { 'test.oneshot': 'true' }, restart: 'no' as const }
              : { restart: o.restart }),
          }),
        );
      }
      const networks = [
        network(identity, 'default', spec.defaultNet),
        network(identity, 'backend', spec.backendNet),
      ];
      const volumes = [volume(identity, 'data'), volume(identity, 'cache')];
      apps.push(app(identity, release(rel, { services, networks, volumes })));
    }
    return target(...apps);
  });

export interface MessyOptions {
  /** Add user-held update locks (a forced plan may override them). */
  userLocks: boolean;
  /** Allow `restarting`/`paused` containers, which the simulation never moves on. */
  transientStatuses: boolean;
}

/** A current state made from an earlier (random) target, then disturbed. */
export function arbCurrent(
  o: MessyOptions,
): fc.Arbitrary<{ current: CurrentState; pulled: string[] }> {
  const statuses: ContainerState['status'][] = ['running', 'running', 'exited', 'created', 'dead'];
  if (o.transientStatuses) statuses.push('restarting', 'paused');
  return fc
    .record({
      before: arbTarget,
      statusPicks: fc.array(fc.constantFrom(...statuses), { minLength: 12, maxLength: 12 }),
      dropContainer: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
      duplicate: fc.option(fc.nat(11), { nil: undefined }),
      retired: fc.option(fc.nat(11), { nil: undefined }),
      extraImages: fc.subarray(
        APPS.flatMap((a) => SERVICES.map((s) => `registry.test/${a.uuid}-${s}:2`)),
      ),
      dropNetworks: fc.boolean(),
      pulledAll: fc.boolean(),
      locks: fc.array(
        fc.record({ app: fc.nat(2), service: fc.constantFrom(...SERVICES), user: fc.boolean() }),
        { maxLength: 3 },
      ),
      forgetCommits: fc.boolean(),
    })
    .map((r) => {
      const base = materialise(r.before, 500);
      let containers = base.containers
        .map((c, i) => {
          const status = r.statusPicks[i % 12] as ContainerState['status'];
          return {
            ...c,
            status,
            startedAt: status === 'created' ? undefined : (c.startedAt ?? c.createdAt),
            exitCode: status === 'exited' ? 0 : c.exitCode,
          };
        })
        .filter((_, i) => !r.dropContainer[i % 12] || i % 3 !== 0);
      const dup =
        r.duplicate === undefined
          ? undefined
          : containers[r.duplicate % Math.max(1, containers.length)];
      if (dup !== undefined)
        containers.push({
          ...dup,
          id: `${dup.id}-dup`,
          name: `${dup.name}_dup`,
          createdAt: new Date(100).toISOString(),
        });
      const ret =
        r.retired === undefined
          ? undefined
          : containers[r.retired % Math.max(1, containers.length)];
      if (ret !== undefined && ret.status !== 'dead') {
        containers = containers.map((c) =>
          c.id === ret.id
            ? { ...c, name: `old_${c.name}`, handoverOld: true, restartPolicy: 'no' }
            : c,
        );
      }
      const used = new Set(containers.flatMap((c) => c.networks));
      const networks = r.dropNetworks
        ? base.networks.filter((n) => used.has(n.engineName))
        : base.networks;
      const images = [
        ...base.images,
        ...r.extraImages
          .filter((ref) => !base.images.some((i) => i.repoTags.includes(ref)))
          .map(image),
      ];
      const locks = r.locks
        .filter((l) => o.userLocks || !l.user)
        .map((l) => ({
          appId: (APPS[l.app] as AppIdentity).appId,
          serviceName: l.service,
          heldBy: l.user ? ('user' as const) : ('agent' as const),
        }));
      const current: CurrentState = {
        ...base,
        containers,
        networks,
        images,
        locks,
        commits: r.forgetCommits ? {} : base.commits,
      };
      return { current, pulled: r.pulledAll ? images.map((i) => i.id) : [] };
    });
}

export function shuffle<T>(items: readonly T[], rand: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function shuffleRecord<T>(
  record: Readonly<Record<string, T>>,
  rand: () => number,
): Record<string, T> {
  return Object.fromEntries(shuffle(Object.entries(record), rand));
}

/** The same target and state with every object key order and array order shuffled. */
export function shuffled(
  t: TargetState,
  c: CurrentState,
  seed: number,
): { target: TargetState; current: CurrentState } {
  const rand = seededRandom(seed);
  const apps = shuffleRecord(t.apps, rand);
  for (const [uuid, a] of Object.entries(apps)) {
    if (a.release === undefined) continue;
    const services = Object.fromEntries(
      shuffle(Object.entries(a.release.services), rand).map(([k, s]) => [
        k,
        { ...s, dependsOn: shuffleRecord(s.dependsOn, rand) },
      ]),
    );
    apps[uuid] = {
      ...a,
      release: {
        ...a.release,
        services,
        networks: shuffleRecord(a.release.networks, rand),
        volumes: shuffleRecord(a.release.volumes, rand),
      },
    };
  }
  return {
    target: { ...t, apps },
    current: {
      ...c,
      containers: shuffle(c.containers, rand),
      images: shuffle(c.images, rand),
      networks: shuffle(c.networks, rand),
      volumes: shuffle(c.volumes, rand),
      locks: shuffle(c.locks, rand),
      handoverComplete: shuffle(c.handoverComplete, rand),
      commits: shuffleRecord(c.commits, rand),
    },
  };
}

/** A random order of `steps` that respects dependsOn. */
export function randomTopological<T extends { id: string; dependsOn: string[] }>(
  steps: readonly T[],
  rand: () => number,
): T[] {
  const done = new Set<string>();
  const pending = [...steps];
  const out: T[] = [];
  while (pending.length > 0) {
    const ready = pending.filter((s) => s.dependsOn.every((d) => done.has(d)));
    if (ready.length === 0)
      throw new Error('no runnable step: dependency cycle or missing dependency');
    const next = ready[Math.floor(rand() * ready.length)] as T;
    pending.splice(pending.indexOf(next), 1);
    done.add(next.id);
    out.push(next);
  }
  return out;
}
