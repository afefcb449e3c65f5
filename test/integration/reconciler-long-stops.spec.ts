/**
 * A long stop never holds a round, on the real engine: app S's service ignores SIGTERM and has a stop
 * grace period of 15 s, so stopping it takes those 15 s; meanwhile app B's service keeps failing to
 * start (its command does not exist) and must still be retried after each backoff. When the stop ran in
 * the round, B's retries came only after it. The stop is started once (the planner sees the container
 * `stopping` and does not plan it again) and its end wakes the loop.
 *
 * Times come from the engine's event log (nanoseconds); the only duration asserted is the test's own
 * precondition (the stop took at least 10 s), which a slow machine can only make longer.
 */
import assert from 'node:assert/strict';
import type { TargetState } from '../../src/domain/model.js';
import { requireDocker, TEST_LABEL, testDocker } from '../support/docker.js';
import { dockerRig, dockerTarget, type DockerRig } from './support/reconciler-docker.js';

interface EngineEvent {
  Type: string;
  Action: string;
  timeNano: number;
  Actor: { ID: string; Attributes: Record<string, string> };
}

const GRACE_SEC = 15;

describe('Reconciler: a long stop runs outside rounds (real engine)', function () {
  this.timeout(180_000);
  let rig: DockerRig | undefined;

  before(requireDocker);
  after(async () => rig?.close());

  it("a 15 s stop of app S holds neither B's backoff retries nor is it started twice", async () => {
    rig = await dockerRig('rec-longstop');
    const r = rig;
    const appS = { ...r, uuid: `${r.uuid.slice(0, 30)}ss`, appId: r.appId + 1 };
    const appB = { ...r, uuid: `${r.uuid.slice(0, 30)}bb`, appId: r.appId + 2 };

    const stubborn = (running: boolean): TargetState => {
      const t = dockerTarget(appS, 'cs', [{ name: 'stubborn' }]);
      const s = t.apps[appS.uuid]!.release!.services['stubborn']!;
      // Ignores SIGTERM: only the engine's SIGKILL at the end of the grace period stops it.
      s.createSpec = {
        ...s.createSpec,
        Cmd: ['sh', '-c', 'trap "" TERM; while true; do sleep 1; done'],
        StopTimeout: GRACE_SEC,
      };
      s.stopTimeoutSec = GRACE_SEC;
      s.running = running;
      return t;
    };
    const b = dockerTarget(appB, 'cb', [{ name: 'flaky' }]);
    const bFlaky = b.apps[appB.uuid]!.release!.services['flaky']!;
    bFlaky.createSpec = { ...bFlaky.createSpec, Cmd: ['/no-such-command'] };
    const both = (s: TargetState): TargetState => ({ ...s, apps: { ...s.apps, ...b.apps } });

    r.reconciler.start(both(stubborn(true)));
    const first = await r.reconciler.whenSettled();
    assert.equal(first.apps[appS.uuid]?.services['stubborn']?.status, 'Running');

    const events: EngineEvent[] = [];
    const stream = (await testDocker().getEvents({
      since: Math.floor(Date.now() / 1000) - 1,
      filters: { label: [`${TEST_LABEL}=${r.prefix}`], type: ['container'] },
    })) as NodeJS.ReadableStream & { destroy(): void };
    stream.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim() !== '') events.push(JSON.parse(line) as EngineEvent);
    });
    try {
      r.reconciler.setTarget(both(stubborn(false)));
      // Settled: the stop has ended (a running long operation is never "settled").
      const status = await r.reconciler.whenSettled();
      assert.equal(status.apps[appS.uuid]?.services['stubborn']?.status, 'exited');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    } finally {
      stream.destroy();
    }

    const of = (app: { uuid: string }, service: string, action: string): EngineEvent[] =>
      events.filter(
        (e) =>
          e.Action === action &&
          e.Actor.Attributes['io.balena.app-uuid'] === app.uuid &&
          e.Actor.Attributes['io.balena.service-name'] === service,
      );
    const terms = of(appS, 'stubborn', 'kill').filter((e) => e.Actor.Attributes['signal'] === '15');
    assert.equal(terms.length, 1, 'the stop was started once, not planned again while it ran');
    const died = of(appS, 'stubborn', 'die');
    assert.equal(died.length, 1, 'the stubborn service stopped');
    const stopStart = terms[0]!.timeNano / 1e6;
    const stopEnd = died[0]!.timeNano / 1e6;
    assert.ok(
      stopEnd - stopStart >= 10_000,
      `precondition: the stop took at least 10 s (took ${stopEnd - stopStart} ms)`,
    );
    const bCreates = of(appB, 'flaky', 'create').map((e) => e.timeNano / 1e6);
    const during = bCreates.filter((t) => t > stopStart && t < stopEnd);
    assert.ok(
      during.length >= 2,
      `B was retried after its backoff while S was stopping (creates at ${bCreates.join(', ')}; stop ${stopStart}..${stopEnd})`,
    );
  });
});
