/**
 * ContainerLogCapture against the FakeEngine (which passes the engine contract suite): the cases a real
 * engine cannot give a test on a shared machine, chiefly an engine restart (only the engine adapter's
 * tests may restart dockerd). The real-engine behaviour is in test/integration/logs.spec.ts.
 */
import assert from 'node:assert/strict';
import type { ContainerCreateSpec } from '../../../src/domain/container-spec.js';
import { FakeEngine } from '../../../src/engine/fake-engine.js';
import { ContainerLogCapture } from '../../../src/logs/container-log-capture.js';
import { MemoryLogCursorStore } from '../../../src/logs/log-cursor-store.js';
import type { LogMessage } from '../../../src/logs/log-message.js';
import { SinkSystemLogger } from '../../../src/logs/system-logger.js';
import { systemClock } from '../../../src/shared/clock.js';
import { silentLogger } from '../../../src/shared/logger.js';

const IMAGE = 'registry.test/app/web:1';

function spec(name: string, extra: Partial<ContainerCreateSpec> = {}): ContainerCreateSpec {
  return {
    name,
    Image: IMAGE,
    Env: [],
    Tty: false,
    Labels: {
      'io.balena.supervised': 'true',
      'io.balena.service-name': name,
      'io.balena.service-id': '3',
      'io.balena.app-uuid': 'app1',
    },
    HostConfig: { NetworkMode: 'none', RestartPolicy: { Name: 'always' } },
    ...extra,
  };
}

async function until(test: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !test(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(test(), `timed out waiting for ${what}`);
}

describe('ContainerLogCapture on the FakeEngine', () => {
  let engine: FakeEngine;
  let capture: ContainerLogCapture;
  let published: LogMessage[];
  let cursors: MemoryLogCursorStore;

  beforeEach(async () => {
    engine = new FakeEngine({ clock: systemClock });
    engine.loadImage(IMAGE);
    published = [];
    cursors = new MemoryLogCursorStore();
    const sink = { publish: (m: LogMessage) => published.push(m) };
    capture = new ContainerLogCapture({
      source: engine,
      sink,
      systemLogger: new SinkSystemLogger(sink, () => 0),
      cursors,
      clock: systemClock,
      logger: silentLogger(),
      retryDelayMs: 1,
    });
    await capture.start();
  });

  afterEach(async () => {
    await capture.stop();
    await engine.close();
  });

  const messages = (service: string): string[] =>
    published.filter((m) => m.serviceName === service).map((m) => m.message);

  it('keeps every line exactly once across an engine restart', async () => {
    const { id } = await engine.createContainer(spec('web'));
    await engine.startContainer(id);
    engine.writeLog(id, 'a');
    engine.writeLog(id, 'b', 'stderr');
    await until(() => messages('web').length === 2, 'the first lines');
    engine.simulateEngineRestart();
    engine.writeLog(id, 'c');
    await until(() => messages('web').includes('c'), 'a line after the restart');
    await new Promise((r) => setTimeout(r, 50)); // room for a duplicate to show up
    assert.deepEqual(messages('web'), ['a', 'b', 'c']);
    assert.deepEqual(
      published
        .filter((m) => m.serviceName === 'web')
        .map((m) => [m.isStdErr, m.serviceId, m.appUuid]),
      [
        [false, 3, 'app1'],
        [true, 3, 'app1'],
        [false, 3, 'app1'],
      ],
    );
  });

  it('announces a crash and the restart, and resumes after it', async () => {
    const { id } = await engine.createContainer(spec('worker'));
    await engine.startContainer(id);
    engine.writeLog(id, 'one');
    await until(() => messages('worker').includes('one'), 'the first line');
    const imageId = (await engine.inspectContainer(id)).imageId;
    await engine.crash(id, 1);
    await until(
      () => published.some((m) => m.message === `Restarting service 'worker ${imageId}'`),
      'the restart notice',
    );
    engine.writeLog(id, 'two');
    await until(() => messages('worker').includes('two'), 'the line after the restart');
    assert.deepEqual(messages('worker'), ['one', 'two']);
    const system = published.filter((m) => m.isSystem).map((m) => m.message);
    assert.ok(
      system.includes(`Service exited 'worker ${imageId}' with code 1`),
      JSON.stringify(system),
    );
  });

  it('detaches on destroy and forgets the cursor', async () => {
    const { id } = await engine.createContainer(spec('gone'));
    await engine.startContainer(id);
    engine.writeLog(id, 'x');
    await until(() => cursors.get(id) !== undefined, 'a cursor');
    await engine.removeContainer(id, { force: true });
    await until(
      () => !capture.attachedIds().includes(id) && cursors.get(id) === undefined,
      'detach',
    );
  });

  it('ignores containers bosun does not supervise', async () => {
    const { id } = await engine.createContainer({
      ...spec('other'),
      Labels: { 'io.balena.service-name': 'other' },
    });
    await engine.startContainer(id);
    engine.writeLog(id, 'private');
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(messages('other'), []);
    assert.ok(!capture.attachedIds().includes(id));
  });

  it("backs off, doubling to the cap, while a running container's stream keeps failing", async () => {
    await capture.stop();
    const delays: number[] = [];
    let sleeps = 0;
    let enough!: () => void;
    const tenSleeps = new Promise<void>((resolve) => (enough = resolve));
    const clock = {
      now: () => Date.now(),
      sleep: (ms: number) => {
        delays.push(ms);
        if (++sleeps === 10) enough();
        return new Promise<void>((resolve) => setImmediate(resolve));
      },
    };
    const broken = {
      listContainers: engine.listContainers.bind(engine),
      inspectContainer: engine.inspectContainer.bind(engine),
      events: engine.events.bind(engine),
      containerLogs: (): AsyncIterable<never> => ({
        [Symbol.asyncIterator]: () => ({
          next: () => Promise.reject(new Error('logging driver cannot be read')),
        }),
      }),
    };
    const { id } = await engine.createContainer(spec('broken'));
    await engine.startContainer(id);
    capture = new ContainerLogCapture({
      source: broken,
      sink: { publish: () => undefined },
      cursors: new MemoryLogCursorStore(),
      clock,
      logger: silentLogger(),
      retryDelayMs: 10,
      maxRetryDelayMs: 160,
    });
    await capture.start();
    await tenSleeps;
    assert.deepEqual(delays.slice(0, 7), [20, 40, 80, 160, 160, 160, 160]);
  });
});
