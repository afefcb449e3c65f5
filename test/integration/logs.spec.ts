/**
 * Log capture on the real Docker engine, streamed over real HTTP by the `/v2/local/logs` handler:
 * attach at start-up and on start events, per-service levels, resume across container restarts and
 * bosun restarts without repeating or dropping a line (checked against the engine's own full log),
 * a slow client costing a bounded queue and a suppression notice, and disconnects freeing readers.
 * Other test runs create supervised containers too: assertions look only at this run's services.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { DockerEngine } from '../../src/engine/docker-engine.js';
import { ContainerLogCapture } from '../../src/logs/container-log-capture.js';
import { LocalLogBackend } from '../../src/logs/local-log-backend.js';
import { createLocalLogsHandler } from '../../src/logs/local-logs-handler.js';
import { FileLogCursorStore } from '../../src/logs/log-cursor-store.js';
import { SinkSystemLogger } from '../../src/logs/system-logger.js';
import { systemClock } from '../../src/shared/clock.js';
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

interface Line {
  message: string;
  timestamp?: number;
  isSystem?: boolean;
  isStdErr?: boolean;
  serviceName?: string;
  serviceId?: number;
}

/** A GET /v2/local/logs client that keeps every parsed line. */
class StreamClient {
  readonly lines: Line[] = [];
  response!: IncomingMessage;
  private readonly request: http.ClientRequest;
  private waiters: Array<() => void> = [];

  constructor(url: string) {
    this.request = http.get(url);
  }

  async open(): Promise<this> {
    [this.response] = (await once(this.request, 'response')) as [IncomingMessage];
    let pending = '';
    this.response.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) !== -1) {
        this.lines.push(JSON.parse(pending.slice(0, nl)) as Line);
        pending = pending.slice(nl + 1);
      }
      for (const w of this.waiters.splice(0)) w();
    });
    return this;
  }

  async waitFor(test: (lines: Line[]) => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!test(this.lines)) {
      if (Date.now() > deadline)
        throw new Error(
          `timed out waiting for ${what}; got ${this.lines.length} lines: ${JSON.stringify(this.lines.slice(-5))}`,
        );
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  of(service: string): Line[] {
    return this.lines.filter((l) => l.serviceName === service);
  }

  close(): void {
    this.request.destroy();
  }
}

describe('log capture on the real engine, streamed by /v2/local/logs', function () {
  this.timeout(120_000);
  const prefix = uniquePrefix('logs');
  const docker: Dockerode = testDocker();
  let dir: string;
  let engine: DockerEngine;
  let backend: LocalLogBackend;
  let server: http.Server;
  let url: string;
  const captures: ContainerLogCapture[] = [];
  const clients: StreamClient[] = [];

  before(async () => {
    await requireDocker();
    dir = await mkdtemp(join(tmpdir(), 'bosun-logs-'));
    engine = new DockerEngine({
      socketPath: DOCKER_SOCKET,
      logger: silentLogger(),
      clock: systemClock,
      eventBackoff: { initialMs: 50, maxMs: 1000 },
    });
    backend = new LocalLogBackend();
    server = http.createServer(createLocalLogsHandler(backend));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/local/logs`;
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const c of captures.splice(0)) await c.stop();
  });

  after(async () => {
    server?.closeAllConnections();
    server?.close();
    await cleanupByLabel(prefix);
    await engine?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function startCapture(
    cursorFile = join(dir, `cursors-${captures.length}.json`),
  ): Promise<ContainerLogCapture> {
    const capture = new ContainerLogCapture({
      source: engine,
      sink: backend,
      systemLogger: new SinkSystemLogger(backend, Date.now),
      cursors: await FileLogCursorStore.open(cursorFile, {
        logger: silentLogger(),
        debounceMs: 50,
      }),
      clock: systemClock,
      logger: silentLogger(),
      retryDelayMs: 50,
    });
    captures.push(capture);
    await capture.start();
    return capture;
  }

  async function client(): Promise<StreamClient> {
    const c = await new StreamClient(url).open();
    clients.push(c);
    return c;
  }

  async function service(
    name: string,
    script: string,
    options: { env?: string[]; tty?: boolean; supervised?: boolean; start?: boolean } = {},
  ): Promise<Dockerode.Container> {
    const container = await docker.createContainer({
      name: `${prefix}-${name}`,
      Image: TEST_IMAGES.busybox,
      Cmd: ['sh', '-c', script],
      Env: options.env ?? [],
      Tty: options.tty ?? false,
      Labels: {
        [TEST_LABEL]: prefix,
        ...(options.supervised === false
          ? {}
          : {
              'io.balena.supervised': 'true',
              'io.balena.service-name': `${prefix}-${name}`,
              'io.balena.service-id': '7',
              'io.balena.app-uuid': `${prefix}-app`,
            }),
      },
      HostConfig: { NetworkMode: 'none' },
    });
    if (options.start !== false) await container.start();
    return container;
  }

  /** The engine's own full record of a container's output, in file order. */
  async function engineLog(id: string): Promise<Array<{ stream: string; line: string }>> {
    const out: Array<{ stream: string; line: string }> = [];
    for await (const l of engine.containerLogs(id)) out.push({ stream: l.stream, line: l.line });
    return out;
  }

  it('answers 200 NDJSON and opens with the line balena-cli expects', async () => {
    const c = await client();
    assert.equal(c.response.statusCode, 200);
    assert.equal(c.response.headers['content-type'], 'application/x-ndjson');
    await c.waitFor((l) => l.length >= 1, 'the first line');
    assert.deepEqual(c.lines[0], { message: 'Streaming logs', isSystem: true });
  });

  it('captures running containers at start-up and new ones on start, with service fields and stderr marked', async () => {
    await service('early', 'echo early-out; echo early-err >&2; sleep 300');
    await service('stranger', 'echo not-supervised; sleep 300', { supervised: false });
    const c = await client();
    await startCapture();
    await c.waitFor((l) => l.some((x) => x.message === 'early-err'), 'the early container');
    await service('late', 'echo late-out; sleep 300', { tty: true });
    await c.waitFor((l) => l.some((x) => x.message === 'late-out'), 'the late (tty) container');

    const early = c.of(`${prefix}-early`);
    // The engine copies stdout and stderr in separate goroutines: their relative order is not fixed.
    assert.deepEqual(early.map((l) => [l.message, l.isStdErr]).sort(), [
      ['early-err', true],
      ['early-out', false],
    ]);
    assert.equal(early[0]!.serviceId, 7);
    assert.equal(typeof early[0]!.timestamp, 'number');
    assert.ok(!('appUuid' in early[0]!), 'appUuid is not part of the local wire format');
    assert.ok(!c.lines.some((l) => l.message === 'not-supervised'));
  });

  it('honours BALENA_LOGS_LEVEL: error keeps only stderr, none captures nothing', async () => {
    const c = await client();
    await startCapture();
    await service('errors-only', 'echo lvl-out; echo lvl-err >&2; sleep 300', {
      env: ['BALENA_LOGS_LEVEL=error'],
    });
    await service('silent', 'echo silent-out; echo silent-err >&2; sleep 300', {
      env: ['BALENA_LOGS_LEVEL=none'],
    });
    await service('marker', 'sleep 1; echo marker-done; sleep 300');
    await c.waitFor(
      (l) => l.some((x) => x.message === 'lvl-err') && l.some((x) => x.message === 'marker-done'),
      'the level containers',
    );
    assert.deepEqual(
      c.of(`${prefix}-errors-only`).map((l) => l.message),
      ['lvl-err'],
    );
    assert.deepEqual(c.of(`${prefix}-silent`), []);
  });

  it('loses and repeats nothing across a container restart and a bosun restart (cursor on disk)', async () => {
    const cursorFile = join(dir, 'resume.json');
    const c = await client();
    // Both streams, interleaved: the engine may stamp a stderr line before the stdout line ahead of it.
    const counter =
      'i=0; while [ $i -lt 150 ]; do echo "o$i"; echo "e$i" >&2; i=$((i+1)); sleep 0.02; done';
    let capture = await startCapture(cursorFile);
    const container = await service('resume', `${counter}; sleep 1; echo round-done`);
    const name = `${prefix}-resume`;
    await c.waitFor((l) => l.some((x) => x.message === 'round-done'), 'the first run');

    await container.restart({ t: 0 });
    await c.waitFor(
      (l) => l.filter((x) => x.serviceName === name && x.message === 'o30').length === 2,
      'the second run to get going',
    );

    // bosun stops mid-run and comes back with the cursor it left on disk.
    await capture.stop();
    captures.splice(captures.indexOf(capture), 1);
    await new Promise((resolve) => setTimeout(resolve, 700)); // lines written while bosun is down
    capture = await startCapture(cursorFile);
    await c.waitFor(
      (l) => l.filter((x) => x.serviceName === name && x.message === 'round-done').length === 2,
      'the second run to finish',
    );

    const truth = await engineLog(container.id);
    const got = c
      .of(name)
      .map((l) => ({ stream: l.isStdErr ? 'stderr' : 'stdout', line: l.message }));
    const key = (x: { stream: string; line: string }): string => `${x.stream}:${x.line}`;
    assert.equal(truth.length, 2 * 301);
    assert.deepEqual(got.map(key).sort(), truth.map(key).sort());
    const systemLines = c.lines.filter((l) => l.isSystem).map((l) => l.message);
    // A service is named by its engine image id, as balena-supervisor names it (docs/protocol.md#image-identity).
    const imageId = (await container.inspect()).Image;
    assert.match(imageId, /^sha256:/);
    assert.ok(
      systemLines.includes(`Service exited '${name} ${imageId}' with code 0`),
      JSON.stringify(systemLines),
    );
    assert.ok(
      systemLines.includes(`Restarting service '${name} ${imageId}'`),
      JSON.stringify(systemLines),
    );
  });

  it('reads the last lines of a container that stopped while bosun was down', async () => {
    const cursorFile = join(dir, 'stopped.json');
    const c = await client();
    const capture = await startCapture(cursorFile);
    // sh as PID 1 acts on TERM only through its trap: the last two lines come out as it stops.
    const container = await service(
      'stops',
      "trap 'echo after-1; echo after-2; exit 0' TERM; echo before; while true; do sleep 0.1; done",
    );
    await c.waitFor((l) => l.some((x) => x.message === 'before'), 'the first line');
    await capture.stop();
    captures.splice(captures.indexOf(capture), 1);
    await container.stop({ t: 10 });
    await startCapture(cursorFile);
    await c.waitFor(
      (l) => l.some((x) => x.message === 'after-2'),
      'the lines written while bosun was down',
    );
    assert.deepEqual(
      c.of(`${prefix}-stops`).map((l) => l.message),
      ['before', 'after-1', 'after-2'],
    );
  });

  it('bounds what a client that stops reading costs, then tells it how many lines it missed', async () => {
    const slowBackend = new LocalLogBackend({ maxQueuedBytesPerReader: 64 * 1024 });
    const slowServer = http.createServer(createLocalLogsHandler(slowBackend));
    slowServer.listen(0, '127.0.0.1');
    await once(slowServer, 'listening');
    try {
      const slow = await new StreamClient(
        `http://127.0.0.1:${(slowServer.address() as AddressInfo).port}/`,
      ).open();
      clients.push(slow);
      slow.response.pause(); // stops reading: the socket buffers fill, then our queue, then we drop
      const big = 'x'.repeat(9000);
      const published = 4000; // ~36 MB: far more than socket buffers and the 64 KiB queue hold
      for (let i = 0; i < published; i++) {
        slowBackend.publish({ message: `${i} ${big}`, timestamp: i, serviceName: 'flood' });
        if (i % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      slowBackend.publish({ message: 'last', timestamp: published, serviceName: 'flood' });
      slow.response.resume();
      await slow.waitFor((l) => l.some((x) => x.message === 'last'), 'the last line');
      const notices = slow.lines.filter(
        (l) =>
          l.isSystem && /^Warning: Suppressed \d+ message\(s\) due to high load$/.test(l.message),
      );
      assert.ok(notices.length >= 1, 'a suppression notice');
      const dropped = notices.reduce((n, l) => n + Number(/\d+/.exec(l.message)![0]), 0);
      const delivered = slow.lines.filter((l) => l.serviceName === 'flood').length;
      assert.equal(
        delivered + dropped,
        published + 1,
        'every line is either delivered or counted as dropped',
      );
      assert.ok(
        dropped > delivered,
        `most lines were dropped (delivered ${delivered}, dropped ${dropped})`,
      );
    } finally {
      slowServer.closeAllConnections();
      slowServer.close();
    }
  });

  it('forgets readers whose clients disconnect', async () => {
    const before = backend.readerCount;
    const a = await client();
    const b = await client();
    await a.waitFor((l) => l.length > 0, 'a first line');
    await b.waitFor((l) => l.length > 0, 'b first line');
    assert.equal(backend.readerCount, before + 2);
    a.close();
    b.close();
    const deadline = Date.now() + 10_000;
    while (backend.readerCount !== before && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal(backend.readerCount, before);
  });
});
