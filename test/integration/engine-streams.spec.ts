/**
 * Issue 8: long-lived engine streams (log follows, events) must never starve short requests, and a
 * short request the engine never answers must fail with ENGINE_TIMEOUT instead of hanging its step.
 * Before the fix, one pool of 16 sockets was shared: 20 log follows of running containers took every
 * socket, and every later request (inspect, list, create) queued forever.
 */
import assert from 'node:assert/strict';
import { setMaxListeners } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerEngine } from '../../src/engine/docker-engine.js';
import { systemClock } from '../../src/shared/clock.js';
import { isBosunError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import {
  cleanupByLabel,
  DOCKER_SOCKET,
  requireDocker,
  TEST_LABEL,
  testDocker,
  uniquePrefix,
} from '../support/docker.js';
import { TEST_IMAGES } from '../support/images.js';
import { requireRegistries } from '../support/registry.js';

const CHATTY = [
  'sh',
  '-c',
  'trap "exit 0" TERM; while true; do echo tick; sleep 2 & wait $!; done',
];

describe('DockerEngine: streams and short requests', function () {
  this.timeout(180_000);

  it('20 open log follows (and the event stream) leave short requests answered', async () => {
    await requireDocker();
    await requireRegistries();
    const prefix = uniquePrefix('streams');
    const docker = testDocker();
    const engine = new DockerEngine({
      socketPath: DOCKER_SOCKET,
      logger: silentLogger(),
      clock: systemClock,
    });
    const follows = new AbortController();
    setMaxListeners(40, follows.signal); // one listener per follow, on purpose
    const events = engine.events().subscribe(() => undefined);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const c = await docker.createContainer({
          name: `${prefix}-${i}`,
          Image: TEST_IMAGES.busybox,
          Cmd: CHATTY,
          Labels: { [TEST_LABEL]: prefix },
          StopTimeout: 1,
          HostConfig: { NetworkMode: 'none' },
        });
        await c.start();
        ids.push(c.id);
      }
      // Open a follow per container and wait until each has delivered a line: each holds a connection.
      const firstLines = ids.map(
        (id) =>
          new Promise<void>((resolve, reject) => {
            void (async () => {
              let first = true;
              try {
                for await (const line of engine.containerLogs(id, {
                  follow: true,
                  signal: follows.signal,
                })) {
                  if (first && line.line === 'tick') {
                    first = false;
                    resolve();
                  }
                }
              } catch (err) {
                reject(err instanceof Error ? err : new Error(String(err)));
              }
            })();
          }),
      );
      await Promise.all(firstLines);

      // Short requests still go through while all 20 streams stay open.
      const listed = await engine.listContainers({ labels: [`${TEST_LABEL}=${prefix}`] });
      assert.equal(listed.length, 20);
      assert.ok(listed.every((c) => c.state === 'running'));
      const created = await engine.createContainer({
        name: `${prefix}-late`,
        Image: TEST_IMAGES.busybox,
        Cmd: CHATTY,
        Env: [],
        Tty: false,
        Labels: { [TEST_LABEL]: prefix },
        HostConfig: { NetworkMode: 'none', RestartPolicy: { Name: 'no' } },
      });
      await engine.startContainer(created.id);
      assert.equal((await engine.inspectContainer(created.id)).state, 'running');
    } finally {
      follows.abort();
      events.unsubscribe();
      await engine.close();
      await cleanupByLabel(prefix, docker);
    }
  });

  describe('an engine that accepts a request and never answers', () => {
    let dir: string;
    let server: Server;
    const sockets = new Set<Socket>();

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'bosun-test-mute-engine-'));
      server = createServer((socket) => {
        sockets.add(socket); // read the request, answer nothing, keep the connection open
        socket.on('close', () => sockets.delete(socket));
        socket.resume();
      });
      await new Promise<void>((resolve) => server.listen(join(dir, 'engine.sock'), resolve));
    });
    after(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    });

    it('fails a short request with ENGINE_TIMEOUT naming the request, instead of hanging', async () => {
      const engine = new DockerEngine({
        socketPath: join(dir, 'engine.sock'),
        logger: silentLogger(),
        clock: systemClock,
        requestTimeoutMs: 300,
      });
      try {
        await assert.rejects(
          () => engine.inspectContainer('web_1'),
          (err: unknown) =>
            isBosunError(err, 'ENGINE_TIMEOUT') &&
            /GET \/containers\/web_1\/json/.test(err.message) &&
            err.retryable,
        );
        // More requests than the pool has sockets: the queued ones are bounded too.
        const many = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) => engine.inspectContainer(`c${i}`)),
        );
        assert.ok(
          many.every((r) => r.status === 'rejected' && isBosunError(r.reason, 'ENGINE_TIMEOUT')),
        );
      } finally {
        await engine.close();
      }
    });

    it('a caller’s own abort stays a cancellation, not a timeout', async () => {
      const engine = new DockerEngine({
        socketPath: join(dir, 'engine.sock'),
        logger: silentLogger(),
        clock: systemClock,
        requestTimeoutMs: 60_000,
      });
      try {
        const controller = new AbortController();
        const stopping = engine.stopContainer('web_1', { signal: controller.signal });
        setTimeout(() => controller.abort(), 50);
        await assert.rejects(stopping, (err: unknown) => isBosunError(err, 'CANCELLED'));
      } finally {
        await engine.close();
      }
    });
  });
});
