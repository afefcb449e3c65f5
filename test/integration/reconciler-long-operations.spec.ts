/**
 * Long operations never hold a round, on the real engine: app A downloads a large image through a
 * registry link this test slows down (a throttling proxy in front of the local registry), while app B's
 * service keeps failing to start and app C's `web` waits for `db` to be healthy (depends_on:
 * service_healthy). B's retries (after their keyed backoff) and C's `web` start must happen while A's
 * download is still running: when rounds waited for their pulls, both came only after it.
 *
 * B's crash loop is one the agent drives: its command does not exist, so the engine refuses every start;
 * the agent retries after each backoff and, after two refusals, replaces the container (a new `create`
 * in the engine's event log). A container that exits under restart policy `always` would be restarted
 * by the engine itself and prove nothing about the agent's rounds.
 *
 * Times come from the engine's event log (nanoseconds) and the proxy's first connection; the only
 * duration asserted is the test's own precondition (the slowed pull takes at least 20 s), which a slow
 * machine can only make longer.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TargetState } from '../../src/domain/model.js';
import { removeImagesByPrefix, requireDocker, TEST_LABEL, testDocker } from '../support/docker.js';
import { OPEN_REGISTRY, publishSyntheticImage, requireRegistries } from '../support/registry.js';
import { dockerRig, dockerTarget, type DockerRig } from './support/reconciler-docker.js';
import { throttledProxy, type ThrottledProxy } from './support/throttled-proxy.js';

interface EngineEvent {
  Type: string;
  Action: string;
  timeNano: number;
  Actor: { ID: string; Attributes: Record<string, string> };
}

const LAYER_MIB = 10;
const LAYERS = 3;
/** 30 MiB at 1.25 MiB/s: about 24 s of download, whatever the machine. */
const BYTES_PER_SECOND = 1.25 * (1 << 20);

describe('Reconciler: long operations run outside rounds (real engine)', function () {
  this.timeout(240_000);
  const run = randomBytes(4).toString('hex');
  const repository = `bosun-test/rec-slow-${run}`;
  let rig: DockerRig | undefined;
  let proxy: ThrottledProxy | undefined;

  before(async () => {
    await requireDocker();
    await requireRegistries();
  });
  after(async () => {
    await rig?.close();
    await proxy?.close();
    if (proxy !== undefined) await removeImagesByPrefix(`${proxy.host}/${repository}`);
  });

  it("app A's slow download holds neither B's backoff retries nor C's start after its dependency turned healthy", async () => {
    // Unique layers per run: the engine must really download them, nothing is cached locally.
    await publishSyntheticImage({
      registry: OPEN_REGISTRY,
      repository,
      tag: '1',
      layerSizes: Array.from({ length: LAYERS }, () => LAYER_MIB << 20),
      seed: `${repository}-layers`,
    });
    const [host, port] = OPEN_REGISTRY.split(':') as [string, string];
    proxy = await throttledProxy({ host, port: Number(port) }, BYTES_PER_SECOND);
    const slowImage = `${proxy.host}/${repository}:1`;

    rig = await dockerRig('rec-longop');
    const r = rig;
    const appA = { ...r, uuid: `${r.uuid.slice(0, 30)}aa`, appId: r.appId + 1 };
    const appB = { ...r, uuid: `${r.uuid.slice(0, 30)}bb`, appId: r.appId + 2 };
    const appC = { ...r, uuid: `${r.uuid.slice(0, 30)}cc`, appId: r.appId + 3 };

    // A: only the download matters (the synthetic image has no shell), so it is created, not started.
    const a = dockerTarget(appA, 'ca', [{ name: 'main', image: slowImage }]);
    const aMain = a.apps[appA.uuid]!.release!.services['main']!;
    aMain.running = false;
    // B: the engine refuses to start it (no such command), every time.
    const b = dockerTarget(appB, 'cb', [{ name: 'flaky' }]);
    const bFlaky = b.apps[appB.uuid]!.release!.services['flaky']!;
    bFlaky.createSpec = { ...bFlaky.createSpec, Cmd: ['/no-such-command'] };
    // C: db turns healthy a few seconds after it starts; web waits for that.
    const c = dockerTarget(appC, 'cc', [
      { name: 'db', init: 'sleep 3; touch /tmp/ready' },
      { name: 'web' },
    ]);
    const services = c.apps[appC.uuid]!.release!.services;
    services['db']!.createSpec = {
      ...services['db']!.createSpec,
      Healthcheck: {
        Test: ['CMD', 'test', '-f', '/tmp/ready'],
        Interval: 500_000_000,
        Timeout: 2_000_000_000,
        Retries: 100,
      },
    };
    services['web']!.dependsOn = { db: 'service_healthy' };
    const target: TargetState = { ...a, apps: { ...a.apps, ...b.apps, ...c.apps } };

    const events: EngineEvent[] = [];
    const docker = testDocker();
    const since = Math.floor(Date.now() / 1000) - 1;
    const stream = (await docker.getEvents({
      since,
      filters: { label: [`${TEST_LABEL}=${r.prefix}`] },
    })) as NodeJS.ReadableStream & { destroy(): void };
    const pulls = (await docker.getEvents({
      since,
      filters: { type: ['image'], event: ['pull'] },
    })) as NodeJS.ReadableStream & { destroy(): void };
    const collect = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim() !== '') events.push(JSON.parse(line) as EngineEvent);
    };
    stream.on('data', collect);
    pulls.on('data', collect);
    try {
      r.reconciler.start(target);
      // Settled: A's download has ended (a running download is never "settled"), A is created, C runs.
      await r.reconciler.whenSettled();
      const status = r.reconciler.status();
      assert.equal(status.apps[appA.uuid]?.services['main']?.status, 'Installed');
      assert.equal(status.apps[appC.uuid]?.services['web']?.status, 'Running');
      // Let the event streams deliver what the engine has logged.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    } finally {
      stream.destroy();
      pulls.destroy();
    }

    const pullEvent = events.find((e) => e.Type === 'image' && e.Actor.ID === slowImage);
    assert.ok(pullEvent, `the engine logged the pull of ${slowImage}`);
    const pullStartedAt = proxy.firstConnectionAt();
    assert.ok(pullStartedAt !== undefined, 'the pull went through the slow link');
    const pullEnd = pullEvent.timeNano / 1e6;
    assert.ok(
      pullEnd - pullStartedAt >= 20_000,
      `precondition: the slowed download takes at least 20 s (took ${pullEnd - pullStartedAt} ms)`,
    );

    const of = (app: { uuid: string }, service: string, action: string): number[] =>
      events
        .filter(
          (e) =>
            e.Type === 'container' &&
            e.Action === action &&
            e.Actor.Attributes['io.balena.app-uuid'] === app.uuid &&
            e.Actor.Attributes['io.balena.service-name'] === service,
        )
        .map((e) => e.timeNano / 1e6);
    const during = (times: number[]): number[] =>
      times.filter((t) => t > pullStartedAt && t < pullEnd);

    // B: the first create, then replacements after its backoff, all while A downloads.
    const bCreates = of(appB, 'flaky', 'create');
    assert.ok(
      during(bCreates).length >= 2,
      `B was retried after its backoff during the download (creates at ${bCreates.join(', ')}; pull ${pullStartedAt}..${pullEnd})`,
    );
    assert.ok(
      during(of(appB, 'flaky', 'destroy')).length >= 1,
      'B was replaced during the download',
    );
    // C: db healthy, then web started, while A still downloads.
    const healthy = events.find(
      (e) =>
        e.Action === 'health_status: healthy' &&
        e.Actor.Attributes['io.balena.service-name'] === 'db' &&
        e.Actor.Attributes['io.balena.app-uuid'] === appC.uuid,
    );
    assert.ok(healthy, 'db turned healthy');
    const webStarts = of(appC, 'web', 'start');
    assert.equal(webStarts.length, 1, 'web started once');
    assert.ok(webStarts[0]! > healthy.timeNano / 1e6, 'web started after db turned healthy');
    assert.deepEqual(
      during(webStarts),
      webStarts,
      `web started while A was still downloading (web ${webStarts[0]}; pull ${pullStartedAt}..${pullEnd})`,
    );
  });
});
