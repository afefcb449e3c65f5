/**
 * Multi-round behaviour through the in-memory simulation (plan → apply → plan …): the sequence of rounds
 * is compared with golden transcripts and the key moments are asserted.
 */
import assert from 'node:assert/strict';
import type { CurrentState, TargetState } from '../../../src/domain/model.js';
import { planContext } from '../../../src/planner/context.js';
import {
  APP_A,
  APP_B,
  app,
  emptyCurrent,
  imageIdOf,
  materialise,
  release,
  service,
  target,
  volume,
} from '../../support/planner-builders.js';
import { B1, B2, NOW, R1, R2 } from '../../support/planner-fixtures.js';
import { expectGolden } from '../../support/planner-golden.js';
import {
  PlannerSim,
  type SimOptions,
  renderRun,
  runToConvergence,
} from '../../support/planner-sim.js';

const { now: _now, pulledImages: _pulled, ...baseCtx } = planContext(NOW);

const api1 = service(R1, 'api', { volumes: ['data'] });
const relA1 = release(R1, { services: [api1], volumes: [volume(APP_A, 'data')] });
const targetA1 = target(app(APP_A, relA1));
const relA2 = (o: Parameters<typeof service>[2]) =>
  release(R2, {
    services: [service(R2, 'api', { volumes: ['data'], ...o })],
    volumes: [volume(APP_A, 'data')],
  });

function converge(sim: PlannerSim, t: TargetState, name: string, ctx = baseCtx, maxRounds = 12) {
  const result = runToConvergence(sim, t, ctx, maxRounds);
  assert.ok(result.converged, `did not converge:\n${renderRun(result)}`);
  expectGolden(`rounds-${name}`, renderRun(result));
  return result;
}

function running(state: CurrentState, name: string): boolean {
  return state.containers.some((c) => c.name === name && c.status === 'running');
}

describe('planner rounds (simulation)', () => {
  it('first install with depends_on service_healthy converges in order', () => {
    const db = service(R1, 'db', { healthcheck: true });
    const api = service(R1, 'api', { dependsOn: { db: 'service_healthy' } });
    const t = target(app(APP_A, release(R1, { services: [db, api] })));
    const sim = new PlannerSim(emptyCurrent(), NOW);
    const result = converge(sim, t, 'first-install-depends-on-healthy');
    assert.deepEqual(
      result.rounds.map((r) =>
        r.plan.steps.filter((s) => s.kind === 'startContainer').map((s) => s.serviceName),
      ),
      [[], ['db'], ['api'], [], []],
    );
    assert.ok(running(sim.state, api.containerName) && running(sim.state, db.containerName));
  });

  it('download-then-kill: pull while the old runs, then replace, then clean up the old image', () => {
    const sim = new PlannerSim(materialise(targetA1), NOW, {}, [imageIdOf(api1.image)]);
    const t2 = target(app(APP_A, relA2({ updateStrategy: 'download-then-kill' })));
    const first = sim.plan(t2, baseCtx);
    sim.apply(first, t2, false);
    assert.ok(running(sim.state, api1.containerName), 'old still runs after the download round');
    const result = converge(sim, t2, 'download-then-kill');
    const last = result.rounds[result.rounds.length - 2]?.plan.steps.map((s) => s.kind) ?? [];
    assert.ok(last.includes('removeImage'), 'the old image goes once the new release runs');
    assert.equal(sim.state.images.length, 1);
  });

  it('kill-then-download: kill, download, then start', () => {
    const sim = new PlannerSim(materialise(targetA1), NOW);
    const t2 = target(app(APP_A, relA2({ updateStrategy: 'kill-then-download' })));
    const result = converge(sim, t2, 'kill-then-download');
    const round1 = result.rounds[0]?.plan.steps.map((s) => s.kind);
    assert.deepEqual(round1, ['takeLock', 'stopContainer', 'removeContainer', 'pullImage']);
  });

  it('delete-then-download: the old image is gone before the new one arrives', () => {
    const sim = new PlannerSim(materialise(targetA1), NOW, {}, [imageIdOf(api1.image)]);
    const t2 = target(app(APP_A, relA2({ updateStrategy: 'delete-then-download' })));
    const result = converge(sim, t2, 'delete-then-download');
    const round1 = result.rounds[0]?.plan.steps.map((s) => s.kind);
    assert.deepEqual(round1, [
      'takeLock',
      'stopContainer',
      'removeContainer',
      'removeImage',
      'pullImage',
    ]);
  });

  it('hand-over honours the timeout: the old container runs until startedAt + timeout', () => {
    const sim = new PlannerSim(materialise(targetA1), NOW, { roundMs: 1000 });
    const t2 = target(app(APP_A, relA2({ updateStrategy: 'hand-over', handoverTimeoutMs: 3500 })));
    sim.apply(sim.plan(t2, baseCtx), t2, false); // download
    sim.apply(sim.plan(t2, baseCtx), t2, false); // retire, create, start
    const newName = 'api_1032_2_c2';
    const startedAt = sim.now - 1000;
    assert.ok(running(sim.state, newName) && running(sim.state, `old_${api1.containerName}`));
    const waits: number[] = [];
    for (;;) {
      const p = sim.plan(t2, baseCtx);
      if (p.steps.some((s) => s.kind === 'stopContainer')) break;
      assert.deepEqual(p.blockers, [
        { kind: 'handoverPending', appUuid: 'aaaa', serviceName: 'api', until: startedAt + 3500 },
      ]);
      assert.ok(running(sim.state, `old_${api1.containerName}`), 'old keeps running while pending');
      waits.push(sim.now);
      sim.apply(p, t2, false);
    }
    assert.ok(sim.now >= startedAt + 3500, 'not killed before the timeout');
    assert.deepEqual(waits, [startedAt + 1000, startedAt + 2000, startedAt + 3000]);
    converge(sim, t2, 'hand-over-timeout-tail');
  });

  it('hand-over ends as soon as the new container signals handover-complete', () => {
    const sim = new PlannerSim(materialise(targetA1), NOW, { handoverSignal: true });
    const t2 = target(app(APP_A, relA2({ updateStrategy: 'hand-over' })));
    const result = converge(sim, t2, 'hand-over-signal');
    const kinds = result.rounds.map((r) => r.plan.steps.map((s) => s.kind).join(','));
    assert.deepEqual(kinds.slice(0, 3), [
      'pullImage',
      'takeLock,retireContainer,createContainer,startContainer',
      'stopContainer,removeContainer',
    ]);
  });

  it('restart is two targets: without the services, then with them (containers recreated, volume kept)', () => {
    const sim = new PlannerSim(materialise(targetA1), NOW);
    const before = sim.state.containers[0]?.id;
    const withoutServices = target(
      app(APP_A, release(R1, { services: [], volumes: [volume(APP_A, 'data')] })),
    );
    converge(sim, withoutServices, 'restart-step-1', { ...baseCtx, keepImages: true });
    assert.equal(sim.state.containers.length, 0);
    assert.equal(sim.state.volumes.length, 1);
    converge(sim, targetA1, 'restart-step-2');
    assert.notEqual(sim.state.containers[0]?.id, before);
    assert.ok(running(sim.state, api1.containerName));
  });

  it('purge is two targets: without the app (volumes removed), then with it', () => {
    const sim = new PlannerSim(materialise(targetA1), NOW);
    converge(sim, target(), 'purge-step-1', { ...baseCtx, keepImages: true });
    assert.deepEqual(
      [sim.state.containers.length, sim.state.volumes.length, sim.state.networks.length],
      [0, 0, 0],
    );
    converge(sim, targetA1, 'purge-step-2');
    assert.equal(sim.state.volumes.length, 1);
    assert.ok(running(sim.state, api1.containerName));
  });

  it('one app with a failing download does not hold back another', () => {
    const web1 = service(B1, 'web');
    const both = target(app(APP_A, relA1), app(APP_B, release(B1, { services: [web1] })));
    const sim = new PlannerSim(materialise(both), NOW);
    const t2 = target(
      app(APP_A, relA2({})),
      app(APP_B, release(B2, { services: [service(B2, 'web')] })),
    );
    const ctx = {
      ...baseCtx,
      failedPulls: [{ image: 'registry.test/api:c2', until: NOW + 60_000, error: 'unauthorized' }],
    };
    const result = runToConvergence(sim, t2, ctx, 6);
    assert.equal(result.converged, false, 'app A still waits for its image');
    assert.ok(running(sim.state, 'web_2042_12_b2'), 'app B runs its new release');
    assert.equal(sim.state.commits['bbbb'], 'b2');
    assert.ok(running(sim.state, api1.containerName), 'app A keeps its old release running');
    expectGolden('rounds-independent-apps', renderRun(result));
  });

  it('steps applied in any order allowed by dependsOn give the same end state', () => {
    const db = service(R1, 'db', { volumes: ['data'] });
    const api = service(R1, 'api', { dependsOn: { db: 'service_started' } });
    const t = target(
      app(APP_A, release(R1, { services: [db, api], volumes: [volume(APP_A, 'data')] })),
    );
    const reversed: SimOptions = { order: (steps) => reverseTopological(steps) };
    const a = new PlannerSim(emptyCurrent(), NOW);
    const b = new PlannerSim(emptyCurrent(), NOW, reversed);
    assert.ok(runToConvergence(a, t, baseCtx, 10).converged);
    assert.ok(runToConvergence(b, t, baseCtx, 10).converged);
    assert.equal(a.fingerprint(), b.fingerprint());
  });
});

/** A valid order that runs independent steps in reverse plan order (to catch reliance on plan order). */
function reverseTopological<T extends { id: string; dependsOn: string[] }>(
  steps: readonly T[],
): T[] {
  const done = new Set<string>();
  const out: T[] = [];
  const pending = [...steps].reverse();
  while (pending.length > 0) {
    const i = pending.findIndex((s) => s.dependsOn.every((d) => done.has(d)));
    const [next] = pending.splice(i, 1);
    if (next === undefined) throw new Error('no runnable step');
    done.add(next.id);
    out.push(next);
  }
  return out;
}
