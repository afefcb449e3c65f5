/**
 * The EngineAdapter contract: what every implementation must do, run against the real DockerEngine
 * (test/integration/engine-docker.spec.ts) and the FakeEngine (test/unit/engine-fake.spec.ts), so a
 * planner simulation on the fake shows what Docker would do.
 */
import assert from 'node:assert/strict';
import { configHashFromInspect } from '../../src/domain/adoption.js';
import { serviceConfigHash } from '../../src/domain/config-hash.js';
import type { ContainerCreateSpec } from '../../src/domain/container-spec.js';
import type {
  EngineAdapter,
  EngineEvent,
  PullProgress,
  RegistryAuth,
} from '../../src/engine/port.js';
import { isBosunError, type ErrorCode } from '../../src/shared/errors.js';
import type { EventFeed } from '../../src/shared/event-feed.js';
import { collectEvents, firstEvent } from '../support/event-feed.js';

/** Labels the fake harness reads to model a container's process (the real one runs the command). */
export const FAKE_IGNORES_SIGTERM_LABEL = 'io.bosun.test.fake.ignores-sigterm';
export const FAKE_OUTPUT_LABEL = 'io.bosun.test.fake.output';
/** A one-shot command: the fake's process exits with this status right after printing its output. */
export const FAKE_EXITS_LABEL = 'io.bosun.test.fake.exits-with';

export interface EngineHarness {
  engine: EngineAdapter;
  /** Unique per run: every container, network and volume the suite makes is named `<prefix>-…`. */
  prefix: string;
  /** Label (key) put on everything the suite makes, with `prefix` as value, for clean-up. */
  ownerLabel: string;
  /** A runnable busybox image (sh, sleep, echo, trap) already in the engine. */
  runnableImage: string;
  authRegistry: { auth: RegistryAuth };
  /**
   * Makes `<registry>/<repository>:<tag>` pullable, with layers of these sizes that the engine does not
   * have yet, and makes sure the engine does not have the image. Returns the reference.
   */
  publishImage(image: {
    registry: 'open' | 'auth';
    repository: string;
    layerSizes: number[];
  }): Promise<string>;
  cleanup(): Promise<void>;
}

const MiB = 1024 * 1024;

async function rejectsWith(
  promise: Promise<unknown>,
  code: ErrorCode,
  mentions?: string,
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isBosunError(err), `expected a BosunError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    if (mentions !== undefined)
      assert.ok(err.message.includes(mentions), `"${err.message}" should mention ${mentions}`);
    return true;
  });
}

/** Events of one container, up to and including `last` (a guard timeout only turns a hang into a failure). */
function containerEvents(
  events: EventFeed<EngineEvent>,
  id: string,
  last: string,
): Promise<EngineEvent[]> {
  return collectEvents(events, {
    filter: (e) => e.type === 'container' && e.id === id,
    until: (e) => e.type === 'container' && e.action === last,
  });
}

export function engineContract(kind: string, setup: () => Promise<EngineHarness>): void {
  describe(`EngineAdapter contract: ${kind}`, function () {
    this.timeout(120_000);
    let h: EngineHarness;
    let engine: EngineAdapter;
    let serial = 0;

    before(async function () {
      h = await setup();
      engine = h.engine;
    });
    after(async function () {
      await h?.cleanup();
    });

    const unique = (what: string): string => `${h.prefix}-${what}-${++serial}`;
    const owned = (extra: Record<string, string> = {}): Record<string, string> => ({
      [h.ownerLabel]: h.prefix,
      ...extra,
    });
    function containerSpec(
      name: string,
      overrides: Partial<ContainerCreateSpec> = {},
    ): ContainerCreateSpec {
      return {
        name,
        Image: h.runnableImage,
        Env: ['BOSUN_TEST=1'],
        Labels: owned(),
        Cmd: ['sleep', '1000'],
        Tty: false,
        ...overrides,
        HostConfig: {
          NetworkMode: 'bridge',
          RestartPolicy: { Name: 'no' },
          ...overrides.HostConfig,
        },
      };
    }
    /** Waits until the container printed `ready` (its traps are set), through containerLogs. */
    async function untilReady(id: string): Promise<void> {
      const controller = new AbortController();
      for await (const line of engine.containerLogs(id, {
        follow: true,
        signal: controller.signal,
      })) {
        if (line.line === 'ready') break;
      }
      controller.abort();
    }

    describe('engine', function () {
      it('answers ping and names its API version', async function () {
        await engine.ping();
        const v = await engine.version();
        assert.match(v.apiVersion, /^\d+\.\d+$/);
        assert.ok(v.version.length > 0);
      });

      it('names its data root (absolute) and the registries it reaches without TLS', async function () {
        const info = await engine.storageInfo();
        assert.ok(info.dataRoot.startsWith('/'), info.dataRoot);
        assert.ok(Array.isArray(info.insecureRegistries));
      });
    });

    describe('containers', function () {
      it('goes created → running → exited, and inspect reports what was asked', async function () {
        const name = unique('life');
        const { id } = await engine.createContainer(
          containerSpec(name, {
            Env: ['A=1', 'B=two'],
            Labels: owned({ 'io.bosun.test.role': 'life' }),
          }),
        );
        let info = await engine.inspectContainer(id);
        assert.equal(info.id, id);
        assert.equal(info.name, name);
        assert.equal(info.image, h.runnableImage);
        assert.match(info.imageId, /^sha256:[0-9a-f]{64}$/);
        assert.equal(info.state, 'created');
        assert.equal(info.labels['io.bosun.test.role'], 'life');
        assert.ok(info.env.includes('A=1') && info.env.includes('B=two'));
        assert.equal(info.restartPolicy, 'no');
        assert.equal(info.exitCode, undefined);
        assert.equal(info.startedAt, undefined);
        assert.deepEqual((await engine.inspectContainer(name)).id, id, 'inspect by name');

        await engine.startContainer(id);
        await engine.startContainer(name); // already running: not an error, and names work too
        info = await engine.inspectContainer(id);
        assert.equal(info.state, 'running');
        assert.ok(info.startedAt !== undefined);
        assert.ok(Object.keys(info.networks).includes('bridge'));

        await engine.stopContainer(id, { timeoutSec: 0 });
        await engine.stopContainer(id, { timeoutSec: 0 }); // already stopped: not an error
        info = await engine.inspectContainer(id);
        assert.equal(info.state, 'exited');
        assert.equal(typeof info.exitCode, 'number');
        assert.ok(info.finishedAt !== undefined);

        await engine.removeContainer(id);
        await rejectsWith(engine.inspectContainer(id), 'NOT_FOUND', id);
      });

      it('lists by label filters (key, key=value, all of them)', async function () {
        const role = `${h.prefix}-role`;
        const a = await engine.createContainer(
          containerSpec(unique('list-a'), {
            Labels: owned({ [role]: 'a', 'io.bosun.test.x': '1' }),
          }),
        );
        const b = await engine.createContainer(
          containerSpec(unique('list-b'), { Labels: owned({ [role]: 'b' }) }),
        );
        const ids = async (labels: string[]): Promise<string[]> =>
          (await engine.listContainers({ labels })).map((c) => c.id).sort();
        assert.deepEqual(await ids([role]), [a.id, b.id].sort());
        assert.deepEqual(await ids([`${role}=a`]), [a.id]);
        assert.deepEqual(await ids([role, 'io.bosun.test.x=1']), [a.id]);
        assert.deepEqual(await ids([`${role}=c`]), []);
        const all = await engine.listContainers();
        assert.ok(
          all.some((c) => c.id === a.id) && all.some((c) => c.id === b.id),
          'no filter lists all (stopped too)',
        );
      });

      it('lists summaries in one request that agree with the inspect (id, name, state, labels)', async function () {
        const role = `${h.prefix}-sum`;
        const created = await engine.createContainer(
          containerSpec(unique('sum-a'), { Labels: owned({ [role]: 'a' }) }),
        );
        const started = await engine.createContainer(
          containerSpec(unique('sum-b'), { Labels: owned({ [role]: 'b' }) }),
        );
        await engine.startContainer(started.id);
        const summaries = await engine.listContainerSummaries({ labels: [role] });
        assert.deepEqual(summaries.map((c) => c.id).sort(), [created.id, started.id].sort());
        for (const summary of summaries) {
          const info = await engine.inspectContainer(summary.id);
          assert.equal(summary.name, info.name);
          assert.equal(summary.state, info.state);
          assert.equal(summary.health, info.health);
          assert.equal(summary.labels[role], info.labels[role]);
        }
        assert.equal(summaries.find((c) => c.id === started.id)?.state, 'running');
        assert.equal(summaries.find((c) => c.id === created.id)?.state, 'created');
      });

      it('inspects raw enough to rebuild the config hash of a container made without our label (adoption)', async function () {
        const spec = containerSpec(unique('adopt'), {
          Env: ['GREETING=hello', 'B=2'],
          Labels: owned({ 'io.balena.service-name': 'adopt' }),
          StopTimeout: 5,
          // Normalisation always names the IPC mode: the engine's default is daemon configuration.
          HostConfig: {
            NetworkMode: 'bridge',
            RestartPolicy: { Name: 'unless-stopped' },
            IpcMode: 'shareable',
          },
        });
        const { id } = await engine.createContainer(spec);
        const info = await engine.inspectContainer(id);
        assert.ok(info.raw !== undefined, 'inspect carries the raw document');
        assert.equal(info.raw.Id, id);
        const listed = (
          await engine.listContainers({ labels: [`${h.ownerLabel}=${h.prefix}`] })
        ).find((c) => c.id === id);
        assert.ok(listed?.raw !== undefined, 'the listing carries it too (no extra request)');
        const image = await engine.inspectImageConfig(info.imageId);
        assert.equal(configHashFromInspect(info.raw, image), serviceConfigHash(spec));
        assert.notEqual(
          configHashFromInspect(info.raw, image),
          serviceConfigHash({ ...spec, Env: ['GREETING=changed', 'B=2'] }),
        );
        await engine.updateRestartPolicy(id, 'always');
        const updated = await engine.inspectContainer(id);
        assert.equal(
          configHashFromInspect(updated.raw ?? info.raw, image),
          serviceConfigHash({
            ...spec,
            HostConfig: { ...spec.HostConfig, RestartPolicy: { Name: 'always' } },
          }),
          'an in-place restart policy change shows',
        );
        await rejectsWith(engine.inspectImageConfig('bosun-test/no-such-image:1'), 'NOT_FOUND');
      });

      it('refuses a taken name on create and rename (CONFLICT), renames otherwise', async function () {
        const first = unique('name');
        const { id } = await engine.createContainer(containerSpec(first));
        await rejectsWith(engine.createContainer(containerSpec(first)), 'CONFLICT', first);
        const other = await engine.createContainer(containerSpec(unique('name')));
        await rejectsWith(engine.renameContainer(other.id, first), 'CONFLICT', first);
        const renamed = unique('renamed');
        await engine.renameContainer(id, renamed);
        assert.equal((await engine.inspectContainer(renamed)).id, id);
        await rejectsWith(engine.inspectContainer(first), 'NOT_FOUND');
      });

      it('removes a running container only with force (CONFLICT otherwise)', async function () {
        const { id } = await engine.createContainer(containerSpec(unique('rm')));
        await engine.startContainer(id);
        await rejectsWith(engine.removeContainer(id), 'CONFLICT');
        assert.equal(
          (await engine.inspectContainer(id)).state,
          'running',
          'a refused remove loses nothing',
        );
        await engine.removeContainer(id, { force: true });
        await rejectsWith(engine.inspectContainer(id), 'NOT_FOUND');
      });

      it('kills a running container (exit 137) and refuses to kill a stopped one (CONFLICT)', async function () {
        const { id } = await engine.createContainer(containerSpec(unique('kill')));
        await engine.startContainer(id);
        await engine.killContainer(id);
        const info = await engine.inspectContainer(id);
        assert.equal(info.state, 'exited');
        assert.equal(info.exitCode, 137);
        await rejectsWith(engine.killContainer(id), 'CONFLICT');
      });

      it('changes the restart policy in place', async function () {
        const { id } = await engine.createContainer(containerSpec(unique('policy')));
        await engine.updateRestartPolicy(id, 'always');
        assert.equal((await engine.inspectContainer(id)).restartPolicy, 'always');
        await engine.updateRestartPolicy(id, 'no');
        assert.equal((await engine.inspectContainer(id)).restartPolicy, 'no');
      });

      it('says NOT_FOUND, naming the container, for every operation on an unknown one', async function () {
        const ghost = `${h.prefix}-ghost`;
        await rejectsWith(engine.inspectContainer(ghost), 'NOT_FOUND', ghost);
        await rejectsWith(engine.startContainer(ghost), 'NOT_FOUND', ghost);
        await rejectsWith(engine.stopContainer(ghost), 'NOT_FOUND', ghost);
        await rejectsWith(engine.killContainer(ghost), 'NOT_FOUND', ghost);
        await rejectsWith(engine.removeContainer(ghost), 'NOT_FOUND', ghost);
        await rejectsWith(engine.renameContainer(ghost, `${ghost}-2`), 'NOT_FOUND', ghost);
        await rejectsWith(engine.updateRestartPolicy(ghost, 'always'), 'NOT_FOUND', ghost);
      });

      it('refuses to create from an image the engine does not have (NOT_FOUND)', async function () {
        await rejectsWith(
          engine.createContainer(
            containerSpec(unique('noimage'), { Image: `${h.prefix}/not-pulled:1` }),
          ),
          'NOT_FOUND',
        );
      });

      it('returns what a container printed through containerLogs', async function () {
        const { id } = await engine.createContainer(
          containerSpec(unique('logs'), {
            Cmd: ['sh', '-c', 'echo one; echo two'],
            Labels: owned({ [FAKE_OUTPUT_LABEL]: 'one|two', [FAKE_EXITS_LABEL]: '0' }),
          }),
        );
        const done = containerEvents(engine.events(), id, 'die');
        await engine.startContainer(id);
        await done;
        const lines = [];
        for await (const line of engine.containerLogs(id)) lines.push(line);
        assert.deepEqual(
          lines.map((l) => [l.stream, l.line]),
          [
            ['stdout', 'one'],
            ['stdout', 'two'],
          ],
        );
        assert.ok(lines[0]!.timestamp <= lines[1]!.timestamp);
      });
    });

    describe('stop timeout', function () {
      it('kills a container that ignores SIGTERM once the timeout is over (exit 137), after SIGTERM', async function () {
        const polite = await engine.createContainer(
          containerSpec(unique('polite'), {
            Cmd: ['sh', '-c', "trap 'exit 0' TERM; echo ready; sleep 1000 & wait"],
            Labels: owned({ [FAKE_OUTPUT_LABEL]: 'ready' }),
          }),
        );
        const stubborn = await engine.createContainer(
          containerSpec(unique('stubborn'), {
            Cmd: ['sh', '-c', 'trap "" TERM; echo ready; sleep 1000'],
            Labels: owned({ [FAKE_OUTPUT_LABEL]: 'ready', [FAKE_IGNORES_SIGTERM_LABEL]: 'true' }),
          }),
        );
        await engine.startContainer(polite.id);
        await engine.startContainer(stubborn.id);
        await untilReady(polite.id);
        await untilReady(stubborn.id);

        const stubbornEvents = containerEvents(engine.events(), stubborn.id, 'die');
        let started = performance.now();
        await engine.stopContainer(polite.id, { timeoutSec: 1 });
        const politeMs = performance.now() - started;
        started = performance.now();
        await engine.stopContainer(stubborn.id, { timeoutSec: 1 });
        const stubbornMs = performance.now() - started;

        assert.equal(
          (await engine.inspectContainer(polite.id)).exitCode,
          0,
          'the polite one exited on SIGTERM',
        );
        assert.equal(
          (await engine.inspectContainer(stubborn.id)).exitCode,
          137,
          'the stubborn one was SIGKILLed',
        );
        const kills = (await stubbornEvents).filter(
          (e) => e.type === 'container' && (e.action === 'kill' || e.action === 'die'),
        );
        assert.deepEqual(
          kills.map((e) =>
            e.type === 'container' ? `${e.action}:${e.signal ?? e.exitCode ?? ''}` : '',
          ),
          ['kill:15', 'kill:9', 'die:137'],
          'SIGTERM, then SIGKILL, then death',
        );
        // Ordering, not a wall-clock threshold: waiting out the timeout takes longer than a polite exit.
        assert.ok(
          stubbornMs > politeMs,
          `stubborn stop (${stubbornMs} ms) should outlast polite stop (${politeMs} ms)`,
        );
      });
    });

    describe('networks', function () {
      it('creates, lists by label, connects, refuses conflicts and in-use removal, removes', async function () {
        const name = unique('net');
        const { id } = await engine.createNetwork({
          Name: name,
          Driver: 'bridge',
          Labels: owned({ 'io.bosun.test.net': name }),
        });
        const info = await engine.inspectNetwork(name);
        assert.equal(info.id, id);
        assert.equal(info.name, name);
        assert.equal(info.driver, 'bridge');
        assert.equal(info.labels['io.bosun.test.net'], name);
        assert.deepEqual(
          (await engine.listNetworks({ labels: [`io.bosun.test.net=${name}`] })).map((n) => n.id),
          [id],
        );
        await rejectsWith(
          engine.createNetwork({ Name: name, Driver: 'bridge', Labels: owned() }),
          'CONFLICT',
          name,
        );

        const c = await engine.createContainer(containerSpec(unique('netc')));
        await engine.connectNetwork(name, c.id, { aliases: ['web-alias'] });
        await engine.startContainer(c.id);
        // Once running the endpoint exists: connecting again is a conflict (before, it only rewrites config).
        await rejectsWith(engine.connectNetwork(name, c.id), 'CONFLICT');
        const attached = await engine.inspectContainer(c.id);
        assert.ok(attached.networks[name] !== undefined, 'the container is on the network');
        assert.equal(attached.networks[name].networkId, id);
        assert.ok(attached.networks[name].aliases.includes('web-alias'));
        assert.deepEqual((await engine.inspectNetwork(id)).containers, [c.id]);
        const unattached = await engine.listNetworks({
          labels: [`io.bosun.test.net=${name}`],
          attached: false,
        });
        assert.deepEqual(
          unattached.map((n) => [n.id, n.name, n.labels['io.bosun.test.net'], n.containers.length]),
          [[id, name, name, 0]],
          'the list alone: same network, no attached containers',
        );

        await rejectsWith(engine.removeNetwork(name), 'CONFLICT', name);
        await engine.inspectNetwork(id); // a refused remove loses nothing
        await engine.disconnectNetwork(name, c.id);
        await rejectsWith(engine.disconnectNetwork(name, c.id), 'NOT_FOUND');
        assert.equal((await engine.inspectContainer(c.id)).networks[name], undefined);
        await engine.removeNetwork(name);
        await rejectsWith(engine.inspectNetwork(name), 'NOT_FOUND', name);
        await rejectsWith(engine.removeNetwork(name), 'NOT_FOUND', name);
      });
    });

    describe('volumes', function () {
      it('creates (idempotently), lists by label, refuses removal while mounted, removes', async function () {
        const name = unique('vol');
        const created = await engine.createVolume({
          Name: name,
          Driver: 'local',
          Labels: owned({ 'io.bosun.test.vol': name }),
        });
        assert.equal(created.name, name);
        assert.equal(created.driver, 'local');
        assert.equal(created.labels['io.bosun.test.vol'], name);
        assert.ok(created.mountpoint.length > 0);
        const again = await engine.createVolume({
          Name: name,
          Driver: 'local',
          Labels: owned({ 'io.bosun.test.vol': name }),
        });
        assert.equal(again.name, name, 'creating an existing volume returns it');
        assert.deepEqual(
          (await engine.listVolumes({ labels: [`io.bosun.test.vol=${name}`] })).map((v) => v.name),
          [name],
        );
        assert.equal((await engine.inspectVolume(name)).name, name);

        const c = await engine.createContainer(
          containerSpec(unique('volc'), {
            HostConfig: {
              NetworkMode: 'bridge',
              RestartPolicy: { Name: 'no' },
              Mounts: [{ Type: 'volume', Source: name, Target: '/data' }],
            },
          }),
        );
        const mounts = (await engine.inspectContainer(c.id)).mounts;
        assert.ok(
          mounts.some((m) => m.type === 'volume' && m.name === name && m.destination === '/data'),
        );
        await rejectsWith(engine.removeVolume(name), 'CONFLICT', name);
        await engine.removeContainer(c.id);
        await engine.removeVolume(name);
        await rejectsWith(engine.inspectVolume(name), 'NOT_FOUND', name);
        await rejectsWith(engine.removeVolume(name), 'NOT_FOUND', name);
      });
    });

    describe('images', function () {
      it('inspects, lists, tags and untags', async function () {
        const image = await engine.inspectImage(h.runnableImage);
        assert.match(image.id, /^sha256:[0-9a-f]{64}$/);
        assert.ok(image.repoTags.includes(h.runnableImage));
        assert.ok((await engine.listImages()).some((i) => i.id === image.id));
        const repo = `${h.prefix}/tagged`;
        await engine.tagImage(h.runnableImage, repo, 'v1');
        assert.equal((await engine.inspectImage(`${repo}:v1`)).id, image.id);
        await engine.removeImage(`${repo}:v1`);
        await rejectsWith(engine.inspectImage(`${repo}:v1`), 'NOT_FOUND');
        assert.equal(
          (await engine.inspectImage(h.runnableImage)).id,
          image.id,
          'removing one tag keeps the image',
        );
      });

      it('lists the layers of an image, the same through any of its names; NOT_FOUND for an unknown image', async function () {
        const layers = await engine.imageLayers(h.runnableImage);
        assert.ok(layers.length > 0);
        assert.ok(layers.every((l) => typeof l === 'string' && l.length > 0));
        const { id } = await engine.inspectImage(h.runnableImage);
        assert.deepEqual(await engine.imageLayers(id), layers);
        await rejectsWith(engine.imageLayers(`${h.prefix}/no-such-image:1`), 'NOT_FOUND');
      });

      it('refuses to remove an image a container uses (CONFLICT) unless forced', async function () {
        const ref = await h.publishImage({
          registry: 'open',
          repository: 'bosun-test/engine-contract-inuse',
          layerSizes: [4096],
        });
        const pulled = await engine.pullImage(ref);
        const c = await engine.createContainer(
          containerSpec(unique('inuse'), { Image: ref, Cmd: ['/layer-0'] }),
        );
        assert.equal((await engine.inspectContainer(c.id)).imageId, pulled.id);
        await rejectsWith(engine.removeImage(ref), 'CONFLICT');
        assert.equal(
          (await engine.inspectImage(ref)).id,
          pulled.id,
          'a refused remove loses nothing',
        );
        await engine.removeContainer(c.id);
        await engine.removeImage(ref);
        await rejectsWith(engine.inspectImage(ref), 'NOT_FOUND');
      });

      it('says NOT_FOUND for unknown images and IMAGE_PULL_FAILED for a pull of one the registry lacks', async function () {
        await rejectsWith(engine.inspectImage(`${h.prefix}/nothing:1`), 'NOT_FOUND');
        await rejectsWith(engine.removeImage(`${h.prefix}/nothing:1`), 'NOT_FOUND');
        const missing = await h.publishImage({
          registry: 'open',
          repository: 'bosun-test/engine-contract-exists',
          layerSizes: [1024],
        });
        await rejectsWith(
          engine.pullImage(missing.replace(/:[^:/]+$/, ':no-such-tag')),
          'IMAGE_PULL_FAILED',
        );
      });

      it('reports pull progress per layer that only grows and ends at 100', async function () {
        const sizes = [6 * MiB, 6 * MiB, 6 * MiB];
        const ref = await h.publishImage({
          registry: 'open',
          repository: 'bosun-test/engine-contract-progress',
          layerSizes: sizes,
        });
        const seen: PullProgress[] = [];
        const image = await engine.pullImage(ref, {
          onProgress: (p) => seen.push(structuredClone(p)),
        });
        assert.ok(image.repoTags.includes(ref));
        assert.ok(seen.length >= 2, 'progress arrives more than once');
        const percents = seen.map((p) => p.percent).filter((p): p is number => p !== undefined);
        assert.deepEqual(
          percents,
          [...percents].sort((a, b) => a - b),
          'percent never goes back',
        );
        assert.equal(seen.at(-1)!.percent, 100);
        assert.ok(
          percents.slice(0, -1).every((p) => p < 100),
          '100 only once the pull is done',
        );
        const last = seen.at(-1)!;
        assert.equal(Object.keys(last.layers).length, sizes.length, 'one entry per layer');
        assert.ok(
          last.totalBytes >= sizes.reduce((a, b) => a + b, 0),
          'sizes of all layers are known by the end',
        );
        assert.equal(last.downloadedBytes, last.totalBytes);
        assert.equal((await engine.inspectImage(ref)).id, image.id);
      });

      it('cancels a pull half way: CANCELLED, no image left, and the download really stopped', async function () {
        const ref = await h.publishImage({
          registry: 'open',
          repository: 'bosun-test/engine-contract-cancel',
          layerSizes: [8 * MiB, 8 * MiB, 8 * MiB],
        });
        const controller = new AbortController();
        let abortedAt: PullProgress | undefined;
        await rejectsWith(
          engine.pullImage(ref, {
            signal: controller.signal,
            onProgress: (p) => {
              if (abortedAt === undefined && p.downloadedBytes > 0) {
                abortedAt = structuredClone(p);
                controller.abort();
              }
            },
          }),
          'CANCELLED',
        );
        assert.ok(
          abortedAt !== undefined && abortedAt.downloadedBytes < abortedAt.totalBytes,
          'aborted half way',
        );
        await rejectsWith(engine.inspectImage(ref), 'NOT_FOUND');
        // Had the cancelled pull gone on in the background, its layers would now be there ("Already exists").
        let again: PullProgress | undefined;
        await engine.pullImage(ref, { onProgress: (p) => (again = structuredClone(p)) });
        const redownloaded = Object.values(again!.layers).filter(
          (l) => l.status !== 'Already exists',
        );
        assert.ok(redownloaded.length > 0, 'the second pull downloads layers again');
      });

      it('pulls from a registry that needs auth: REGISTRY_AUTH without or with a wrong password, works with the right one', async function () {
        const ref = await h.publishImage({
          registry: 'auth',
          repository: 'bosun-test/engine-contract-private',
          layerSizes: [2048],
        });
        await rejectsWith(engine.pullImage(ref), 'REGISTRY_AUTH');
        await rejectsWith(
          engine.pullImage(ref, { auth: { ...h.authRegistry.auth, password: 'wrong-password' } }),
          'REGISTRY_AUTH',
        );
        const image = await engine.pullImage(ref, { auth: h.authRegistry.auth });
        assert.ok(image.repoTags.includes(ref));
      });

      it('does not start a pull whose signal is already aborted', async function () {
        const controller = new AbortController();
        controller.abort();
        await rejectsWith(
          engine.pullImage(h.runnableImage, { signal: controller.signal }),
          'CANCELLED',
        );
      });
    });

    describe('events', function () {
      it('reports create, start, die and destroy of a container, in order, with name and labels', async function () {
        const name = unique('events');
        const subscription = engine.events();
        // Subscribe before acting: the stream must not lose what happens while it connects.
        const creates = firstEvent(subscription, (e) => e.type === 'container' && e.name === name);
        const { id } = await engine.createContainer(
          containerSpec(name, { Labels: owned({ 'io.bosun.test.ev': 'yes' }) }),
        );
        const first = await creates;
        assert.equal(first.type === 'container' && first.action, 'create');
        const all = containerEvents(subscription, id, 'destroy');
        await engine.startContainer(id);
        await engine.killContainer(id);
        await engine.removeContainer(id);
        const events = await all;
        const actions = events.map((e) => (e.type === 'container' ? e.action : e.type));
        const order = ['start', 'die', 'destroy'].map((a) => actions.indexOf(a));
        assert.ok(
          order.every((i) => i >= 0),
          `saw ${actions.join(', ')}`,
        );
        assert.deepEqual(
          order,
          [...order].sort((a, b) => a - b),
          `in order: ${actions.join(', ')}`,
        );
        const die = events.find((e) => e.type === 'container' && e.action === 'die');
        assert.ok(die?.type === 'container' && die.exitCode === 137);
        assert.ok(
          events.every(
            (e) =>
              e.type === 'container' && e.name === name && e.labels['io.bosun.test.ev'] === 'yes',
          ),
        );
      });

      it('shares one stream: two subscribers see the same events', async function () {
        const name = unique('shared');
        const events = engine.events();
        const a = firstEvent(events, (e) => e.type === 'container' && e.name === name);
        const b = firstEvent(events, (e) => e.type === 'container' && e.name === name);
        const { id } = await engine.createContainer(containerSpec(name));
        const [ea, eb] = await Promise.all([a, b]);
        assert.ok(
          ea.type === 'container' && eb.type === 'container' && ea.id === id && eb.id === id,
        );
      });
    });
  });
}
