/**
 * A pure, in-memory model of what the engine does with each step, used to run the planner round after
 * round (plan → apply → plan …) without Docker. It enforces the engine's rules and bosun's safety rules
 * as it goes and throws a SimViolation when a step breaks one: names are unique; a container is created
 * only from a present image onto existing networks and volumes; a running container is only stopped,
 * renamed or retired under our update lock; a running container cannot be removed; a network, volume or
 * image in use cannot be removed; a service never has two running containers outside a hand-over.
 */
import type {
  ContainerState,
  CurrentState,
  ServiceTarget,
  TargetState,
} from '../../src/domain/model.js';
import type { PlanContext } from '../../src/planner/context.js';
import { plan as planRound } from '../../src/planner/plan.js';
import { renderPlan } from '../../src/planner/render.js';
import type { Plan, Step } from '../../src/planner/steps.js';
import { imageIdOf, iso } from './planner-builders.js';

export class SimViolation extends Error {
  override name = 'SimViolation';
}

export interface SimOptions {
  /** Milliseconds the clock advances per round (default 1000). */
  roundMs?: number;
  /** New containers of hand-over services signal handover-complete as soon as they start. */
  handoverSignal?: boolean;
  /** Picks the order in which a round's steps run (any order that respects dependsOn); default: plan order. */
  order?: (steps: readonly Step[]) => Step[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer U)[] ? U[] : T[K] };

const ACTIVE = new Set(['running', 'restarting', 'paused']);

export class PlannerSim {
  state: Mutable<CurrentState>;
  now: number;
  readonly pulled: string[] = [];
  private counter = 0;

  constructor(
    initial: CurrentState,
    now: number,
    private readonly options: SimOptions = {},
    pulled: readonly string[] = [],
  ) {
    const copy: Mutable<CurrentState> = {
      ...structuredClone(initial),
      containers: structuredClone([...initial.containers]),
      images: structuredClone([...initial.images]),
      networks: structuredClone([...initial.networks]),
      volumes: structuredClone([...initial.volumes]),
      locks: structuredClone([...initial.locks]),
      downloads: structuredClone([...initial.downloads]),
      handoverComplete: [...initial.handoverComplete],
    };
    this.state = copy;
    this.now = now;
    this.pulled.push(...pulled);
  }

  plan(target: TargetState, ctx: Omit<PlanContext, 'now' | 'pulledImages'>): Plan {
    return planRound(target, this.state, { ...ctx, now: this.now, pulledImages: [...this.pulled] });
  }

  /** Runs one round's steps (in the chosen order) against the model, then advances the clock. */
  apply(plan: Plan, target: TargetState, force: boolean): void {
    const order = this.options.order ?? ((steps) => [...steps]);
    const seen = new Set<string>();
    for (const step of order(plan.steps)) {
      for (const dep of step.dependsOn) {
        if (!seen.has(dep)) throw new SimViolation(`${step.id} ran before its dependency ${dep}`);
      }
      this.applyStep(step, target, force);
      seen.add(step.id);
    }
    // One-shot services finish their work between rounds (a start makes them exit 0 at once anyway).
    this.state.containers = this.state.containers.map((c) => {
      const svc = target.apps[c.appUuid]?.release?.services[c.serviceName];
      const oneshot = svc?.createSpec.Labels['test.oneshot'] !== undefined;
      return oneshot && c.status === 'running' ? { ...c, status: 'exited', exitCode: 0 } : c;
    });
    this.now += this.options.roundMs ?? 1000;
  }

  private container(ref: string): ContainerState {
    const c = this.state.containers.find((x) => x.id === ref || x.name === ref);
    if (c === undefined) throw new SimViolation(`no container ${ref}`);
    return c;
  }

  private replace(c: ContainerState, patch: Partial<ContainerState>): void {
    this.state.containers = this.state.containers.map((x) =>
      x.id === c.id ? { ...x, ...patch } : x,
    );
  }

  private hasImage(ref: string): boolean {
    return this.state.images.some(
      (i) => i.repoTags.includes(ref) || i.repoDigests.includes(ref) || i.id === ref,
    );
  }

  private lockHolder(appId: number, service: string): 'user' | 'agent' | undefined {
    const locks = this.state.locks.filter((l) => l.appId === appId && l.serviceName === service);
    if (locks.some((l) => l.heldBy === 'user')) return 'user';
    return locks.length > 0 ? 'agent' : undefined;
  }

  private requireLock(c: ContainerState, what: string): void {
    const holder = this.lockHolder(c.appId, c.serviceName);
    if (holder === 'user')
      throw new SimViolation(`${what} ${c.name} while a user holds its update lock`);
    if (ACTIVE.has(c.status) && holder !== 'agent') {
      throw new SimViolation(`${what} running ${c.name} without taking its update lock`);
    }
  }

  private nameFree(name: string): void {
    if (this.state.containers.some((c) => c.name === name))
      throw new SimViolation(`container name ${name} is taken`);
  }

  private applyStep(step: Step, target: TargetState, force: boolean): void {
    const s = this.state;
    switch (step.kind) {
      case 'pullImage': {
        const id = imageIdOf(step.image);
        if (!s.images.some((i) => i.id === id)) {
          s.images.push({
            id,
            repoTags: [step.image],
            repoDigests: [],
            labels: {},
            createdAt: iso(this.now),
          });
        }
        if (!this.pulled.includes(id)) this.pulled.push(id);
        return;
      }
      case 'removeImage': {
        const users = s.containers.filter((c) => c.engineImageId === step.engineImageId);
        if (users.length > 0)
          throw new SimViolation(
            `removeImage ${step.engineImageId} still used by ${users[0]?.name}`,
          );
        s.images = s.images.filter((i) => i.id !== step.engineImageId);
        return;
      }
      case 'createNetwork':
        if (s.networks.some((n) => n.engineName === step.network.engineName)) {
          throw new SimViolation(`network ${step.network.engineName} exists`);
        }
        s.networks.push({
          id: `net-${step.network.engineName}-${this.counter++}`,
          engineName: step.network.engineName,
          appUuid: step.appUuid ?? '',
          appId: undefined,
          configHash: step.network.configHash,
          labels: {},
        });
        return;
      case 'removeNetwork': {
        const users = s.containers.filter((c) => c.networks.includes(step.engineName));
        if (users.length > 0)
          throw new SimViolation(
            `removeNetwork ${step.engineName} still used by ${users[0]?.name}`,
          );
        if (!s.networks.some((n) => n.engineName === step.engineName))
          throw new SimViolation(`no network ${step.engineName}`);
        s.networks = s.networks.filter((n) => n.engineName !== step.engineName);
        return;
      }
      case 'createVolume':
        if (s.volumes.some((v) => v.engineName === step.volume.engineName)) {
          throw new SimViolation(`volume ${step.volume.engineName} exists`);
        }
        s.volumes.push({
          engineName: step.volume.engineName,
          appId: Number(step.volume.engineName.split('_')[0]),
          appUuid: step.appUuid,
          configHash: step.volume.configHash,
          labels: {},
        });
        return;
      case 'removeVolume': {
        const users = s.containers.filter((c) => c.volumes.includes(step.engineName));
        if (users.length > 0)
          throw new SimViolation(`removeVolume ${step.engineName} still used by ${users[0]?.name}`);
        s.volumes = s.volumes.filter((v) => v.engineName !== step.engineName);
        return;
      }
      case 'takeLock':
        for (const service of step.services) {
          if (this.lockHolder(step.appId, service) === 'user' && !step.force) {
            throw new SimViolation(
              `takeLock ${step.appId}/${service} held by a user without force`,
            );
          }
          s.locks = s.locks.filter((l) => !(l.appId === step.appId && l.serviceName === service));
          s.locks.push({ appId: step.appId, serviceName: service, heldBy: 'agent' });
        }
        if (!force && step.force) throw new SimViolation('takeLock forced without force');
        return;
      case 'releaseLock':
        s.locks = s.locks.filter((l) => !(l.appId === step.appId && l.heldBy === 'agent'));
        return;
      case 'createContainer':
        this.create(step.service, step.appUuid ?? '', target);
        return;
      case 'startContainer':
        this.start(this.container(step.containerId), target);
        return;
      case 'stopContainer': {
        const c = this.container(step.containerId);
        this.requireLock(c, 'stop');
        this.replace(c, { status: 'exited', exitCode: ACTIVE.has(c.status) ? 143 : c.exitCode });
        return;
      }
      case 'removeContainer': {
        const c = this.container(step.containerId);
        this.requireLock(c, 'remove');
        if (ACTIVE.has(c.status)) throw new SimViolation(`remove of running ${c.name}`);
        s.containers = s.containers.filter((x) => x.id !== c.id);
        return;
      }
      case 'renameContainer': {
        const c = this.container(step.containerId);
        this.requireLock(c, 'rename');
        this.nameFree(step.newName);
        const [, , releaseId, commit] = step.newName.split('_');
        this.replace(c, { name: step.newName, releaseId: Number(releaseId), commit: commit ?? '' });
        return;
      }
      case 'retireContainer': {
        const c = this.container(step.containerId);
        this.requireLock(c, 'retire');
        this.nameFree(step.newName);
        this.replace(c, { name: step.newName, handoverOld: true, restartPolicy: 'no' });
        // The executor clears a stale handover-complete signal when a new hand-over begins.
        s.handoverComplete = s.handoverComplete.filter((h) => h !== `${c.appId}/${c.serviceName}`);
        return;
      }
      case 'recordCommit':
        s.commits = { ...s.commits, [step.appUuid ?? '']: step.commit };
        return;
      case 'createSupervisorNetwork':
        s.supervisorNetwork = true;
        return;
      case 'discardContainer':
        s.containers = s.containers.filter((c) => c.id !== step.containerId);
        return;
    }
  }

  private create(service: ServiceTarget, appUuid: string, target: TargetState): void {
    const s = this.state;
    const app = target.apps[appUuid];
    const rel = app?.release;
    if (app === undefined || rel === undefined)
      throw new SimViolation(`create for unknown app ${appUuid}`);
    this.nameFree(service.containerName);
    if (!this.hasImage(service.image))
      throw new SimViolation(`create ${service.containerName} without image ${service.image}`);
    const host = service.networkMode === 'host';
    const networks = host
      ? ['host']
      : service.networks.map((n) => rel.networks[n]?.engineName ?? `?${n}`);
    const volumes = service.volumes.map((v) => rel.volumes[v]?.engineName ?? `?${v}`);
    for (const n of host ? [] : networks) {
      if (!s.networks.some((x) => x.engineName === n))
        throw new SimViolation(`create ${service.containerName} before network ${n}`);
    }
    for (const v of volumes) {
      if (!s.volumes.some((x) => x.engineName === v))
        throw new SimViolation(`create ${service.containerName} before volume ${v}`);
    }
    const [, , releaseId, commit] = service.containerName.split('_');
    s.containers.push({
      id: `sim-${this.counter++}`,
      name: service.containerName,
      appId: app.appId,
      appUuid,
      serviceName: service.serviceName,
      serviceId: service.serviceId,
      imageId: service.imageId,
      releaseId: Number(releaseId),
      commit: commit ?? '',
      engineImageId: imageIdOf(service.image),
      configHash: service.configHash,
      status: 'created',
      health: 'none',
      exitCode: undefined,
      createdAt: iso(this.now + this.counter),
      startedAt: undefined,
      networks,
      volumes,
      handoverOld: false,
      restartPolicy: service.createSpec.HostConfig.RestartPolicy.Name || 'no',
    });
  }

  private start(c: ContainerState, target: TargetState): void {
    const s = this.state;
    for (const n of c.networks) {
      if (n !== 'host' && !s.networks.some((x) => x.engineName === n))
        throw new SimViolation(`start ${c.name} without network ${n}`);
    }
    for (const v of c.volumes) {
      if (!s.volumes.some((x) => x.engineName === v))
        throw new SimViolation(`start ${c.name} without volume ${v}`);
    }
    const twin = s.containers.find(
      (x) =>
        x.id !== c.id &&
        x.appUuid === c.appUuid &&
        x.serviceName === c.serviceName &&
        ACTIVE.has(x.status) &&
        !x.handoverOld &&
        !c.handoverOld,
    );
    if (twin !== undefined)
      throw new SimViolation(`start ${c.name} while ${twin.name} of the same service runs`);
    const svc = target.apps[c.appUuid]?.release?.services[c.serviceName];
    for (const [dep, condition] of Object.entries(svc?.dependsOn ?? {})) {
      // The dependency's container for the target (a dead or stale one of the same service does not count).
      const depName = target.apps[c.appUuid]?.release?.services[dep]?.containerName;
      const d = s.containers.find((x) => x.appUuid === c.appUuid && x.name === depName);
      const met =
        d !== undefined &&
        (condition === 'service_started'
          ? d.startedAt !== undefined && d.status !== 'created'
          : condition === 'service_healthy'
            ? d.status === 'running' && (d.health === 'healthy' || d.health === 'none')
            : d.status === 'exited' && d.exitCode === 0);
      if (!met)
        throw new SimViolation(`start ${c.name} before its dependency ${dep} is ${condition}`);
    }
    const oneshot = svc?.createSpec.Labels['test.oneshot'] !== undefined;
    const healthy = svc?.createSpec.Healthcheck !== undefined;
    this.replace(c, {
      status: oneshot ? 'exited' : 'running',
      exitCode: oneshot ? 0 : undefined,
      health: oneshot ? 'none' : healthy ? 'healthy' : 'none',
      startedAt: iso(this.now),
    });
    if (this.options.handoverSignal && svc?.updateStrategy === 'hand-over') {
      const key = `${c.appId}/${c.serviceName}`;
      if (!s.handoverComplete.includes(key)) s.handoverComplete.push(key);
    }
  }

  /** The state without clock-derived fields, to detect a state seen before (oscillation). */
  fingerprint(): string {
    const s = this.state;
    const containers = s.containers
      .map(
        (c) =>
          `${c.appUuid}/${c.name}/${c.status}/${c.configHash}/${c.engineImageId}/${c.handoverOld}`,
      )
      .sort();
    return JSON.stringify({
      containers,
      images: s.images.map((i) => i.id).sort(),
      networks: s.networks.map((n) => `${n.engineName}/${n.configHash}`).sort(),
      volumes: s.volumes.map((v) => v.engineName).sort(),
      locks: s.locks.map((l) => `${l.appId}/${l.serviceName}/${l.heldBy}`).sort(),
      commits: Object.entries(s.commits).sort(),
      handover: [...s.handoverComplete].sort(),
    });
  }
}

export interface Round {
  plan: Plan;
  rendered: string;
}

export interface RunResult {
  rounds: Round[];
  converged: boolean;
}

/**
 * Plans and applies rounds until a plan is empty with no blockers (converged) or `maxRounds` pass.
 * Throws when a state seen earlier comes back after a change (oscillation).
 */
export function runToConvergence(
  sim: PlannerSim,
  target: TargetState,
  ctx: Omit<PlanContext, 'now' | 'pulledImages'>,
  maxRounds: number,
): RunResult {
  const rounds: Round[] = [];
  const seen = new Set<string>([sim.fingerprint()]);
  let last = sim.fingerprint();
  for (let i = 0; i < maxRounds; i++) {
    const p = sim.plan(target, ctx);
    rounds.push({ plan: p, rendered: renderPlan(p) });
    if (p.steps.length === 0 && p.blockers.length === 0) return { rounds, converged: true };
    sim.apply(p, target, ctx.force || ctx.lockOverride);
    const now = sim.fingerprint();
    if (now !== last && seen.has(now)) {
      throw new SimViolation(
        `oscillation: round ${i + 1} returned to an earlier state\n${rounds.map((r) => r.rendered).join('---\n')}`,
      );
    }
    seen.add(now);
    last = now;
  }
  return { rounds, converged: false };
}

/** Renders a run round by round, for golden files. */
export function renderRun(result: RunResult): string {
  return result.rounds.map((r, i) => `# round ${i + 1}\n${r.rendered}`).join('');
}
