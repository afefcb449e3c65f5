/**
 * bosun's amd64 image as balenaOS runs it: a container with the engine socket, its /data volume and a
 * fake boot partition. It brings a two-service release up in local mode (as `balena push` does), is
 * replaced by a freshly built image of itself (new container, same volume and boot mount) while the
 * apps keep running — the new agent adopts them without recreating anything — runs the same release
 * within half a CPU and 128 MB, and takes over from a balena-supervisor container the same way.
 *
 * The image is built here (scripts/build-image.sh --from-host; scripts/test-setup.sh makes the bases),
 * so the test exercises Dockerfile.template, entry.sh and the bundle users get.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { DockerEngine } from '../../src/engine/docker-engine.js';
import { parseLocalTarget } from '../../src/domain/target/index.js';
import type { NormaliseContext } from '../../src/domain/context.js';
import { CONFIG_HASH_LABEL } from '../../src/domain/config-hash.js';
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
import { requireRegistries } from '../support/registry.js';
import {
  buildImage,
  catIn,
  FAKE_DEVICE,
  FakeHost,
  logsOf,
  type AppContainer,
} from './support/bosun-container.js';
import { localTargetBody } from '../support/local-target-body.js';

const SERVICES = ['web', 'worker'];

/**
 * A commit unique to this host's run: it is part of every container name (`<service>_<image>_<release>_
 * <commit>`), and names are global on the shared engine, where other runs may push the same release.
 */
function commitOf(host: FakeHost, n: number): string {
  return `${host.prefix.slice(-8)}0${n}`;
}

function release(prefix: string, commit: string, webGreeting = 'hello'): unknown {
  return localTargetBody(prefix, 1, commit, 1, TEST_IMAGES.busybox, [
    { name: 'web', data: true, env: { GREETING: webGreeting } },
    { name: 'worker', env: { ROLE: 'worker' } },
  ]);
}

function idsOf(apps: Map<string, AppContainer>): Record<string, [string, string]> {
  return Object.fromEntries([...apps].map(([name, c]) => [name, [c.id, c.startedAt]]));
}

describe('bosun image as a container (amd64)', function () {
  this.timeout(25 * 60_000);
  const run = uniquePrefix('image');
  const tags = [`bosun-e2e-image:${run}-a`, `bosun-e2e-image:${run}-b`];
  const hosts: FakeHost[] = [];

  before(async () => {
    await requireDocker();
    await requireRegistries();
    // better-sqlite3 compiled on this machine against the base's Node headers (the amd64-host base is
    // made from this machine's own packages: the same compiler and libraries the build stage has) and
    // cached across runs by scripts/cross-addon.sh; the build stage copies and load-checks it. A cold
    // image build is then the production install and the bundle only (BENCHMARKS.md: 114 s against
    // 913 s compiling in the stage).
    const built = await buildImage(tags[0]!, 'amd64', true, 'cross');
    console.log(`      image ${tags[0]}: ${built.bytes} bytes, built in ${built.seconds} s`);
  });

  afterEach(async () => {
    for (const host of hosts.splice(0)) {
      await cleanupByLabel(host.prefix);
      await host.remove();
    }
  });

  after(async () => {
    for (const tag of tags)
      await testDocker()
        .getImage(tag)
        .remove()
        .catch(() => undefined);
  });

  async function newHost(area: string): Promise<FakeHost> {
    const host = await FakeHost.create(uniquePrefix(area));
    hosts.push(host);
    return host;
  }

  it('brings a two-service release up, injects the real device facts, and is replaced by a fresh build of itself without touching the apps', async () => {
    const host = await newHost('image-swap');
    const first = await host.startBosun(tags[0]!, `${host.prefix}-bosun-a`);

    // What balena-cli's local-mode calls see.
    const info = (await host.get('/v2/local/device-info')) as { info?: Record<string, unknown> };
    assert.equal(info.info?.['arch'], 'amd64');
    assert.equal(info.info?.['deviceType'], FAKE_DEVICE.deviceType);

    await host.post('/v2/local/target-state', release(host.prefix, commitOf(host, 1)));
    const before = await host.waitApplied(SERVICES, first);

    // BALENA_*/RESIN_* carry the device's real facts: config.json uuid, device-type.json, os-release.
    const env = new Set(before.get('web')!.env);
    for (const prefix of ['BALENA', 'RESIN']) {
      assert.ok(env.has(`${prefix}_DEVICE_UUID=${FAKE_DEVICE.uuid}`), `${prefix}_DEVICE_UUID`);
      assert.ok(
        env.has(`${prefix}_DEVICE_TYPE=${FAKE_DEVICE.deviceType}`),
        `${prefix}_DEVICE_TYPE`,
      );
      assert.ok(env.has(`${prefix}_DEVICE_ARCH=amd64`), `${prefix}_DEVICE_ARCH`);
      assert.ok(
        env.has(`${prefix}_HOST_OS_VERSION=${FAKE_DEVICE.osVersion}`),
        `${prefix}_HOST_OS_VERSION`,
      );
      assert.ok(env.has(`${prefix}_SERVICE_NAME=web`), `${prefix}_SERVICE_NAME`);
    }

    // The update: a freshly built image of bosun (a distinct image), the old container stopped as
    // balenaOS's updater does, a new container on the same data volume and boot partition.
    await buildImage(tags[1]!, 'amd64', true, 'cross');
    const [a, b] = await Promise.all(tags.map((t) => testDocker().getImage(t).inspect()));
    assert.notEqual(a!.Id, b!.Id, 'the rebuild is a new image');
    await first.stop({ t: 10 });
    const stopped = await first.inspect();
    assert.equal(stopped.State.ExitCode, 0, `bosun exits 0 on SIGTERM: ${await logsOf(first)}`);
    assert.deepEqual(
      idsOf(await host.appContainers()),
      idsOf(before),
      'apps untouched by the stop',
    );

    const second = await host.startBosun(tags[1]!, `${host.prefix}-bosun-b`);
    const after = await host.waitApplied(SERVICES, second);
    assert.deepEqual(idsOf(after), idsOf(before), 'same containers, never restarted');
    const state = (await host.get('/v2/state/status')) as { release?: string };
    assert.equal(state.release, commitOf(host, 1));

    // And it still drives the engine: a changed release recreates only the changed service.
    await host.post('/v2/local/target-state', release(host.prefix, commitOf(host, 2), 'bonjour'));
    await host.waitApplied(SERVICES, second);
    const updated = await host.appContainers();
    assert.notEqual(updated.get('web')!.id, before.get('web')!.id);
    assert.ok(updated.get('web')!.env.includes('GREETING=bonjour'));
  });

  it('runs the release within half a CPU and 128 MB without being killed (peak RSS logged)', async () => {
    const host = await newHost('image-small');
    const limited = await host.startBosun(tags[0]!, `${host.prefix}-bosun`, {
      NanoCpus: 500_000_000,
      Memory: 128 * 1024 * 1024,
      MemorySwap: 128 * 1024 * 1024,
    });
    await host.post('/v2/local/target-state', release(host.prefix, commitOf(host, 1)));
    await host.waitApplied(SERVICES, limited);
    await host.post('/v2/local/target-state', release(host.prefix, commitOf(host, 2), 'bonjour'));
    await host.waitApplied(SERVICES, limited);

    const info = await limited.inspect();
    assert.equal(info.State.OOMKilled, false);
    assert.equal(info.State.Running, true);
    assert.equal(info.RestartCount, 0);
    assert.equal(info.HostConfig.Memory, 128 * 1024 * 1024);
    const status = await catIn(limited, '/proc/1/status');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    const rss = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    assert.ok(hwm !== undefined, 'PID 1 is the agent itself (entry.sh execs it)');
    assert.match(await catIn(limited, '/proc/1/cmdline'), /node\0.*dist\/bosun\.mjs/);
    const cgroupPeak = await catIn(limited, '/sys/fs/cgroup/memory.peak').catch(() => 'n/a');
    console.log(
      `      limited to 0.5 CPU / 128 MiB: agent peak RSS ${Math.round(Number(hwm) / 1024)} MiB, ` +
        `RSS now ${Math.round(Number(rss) / 1024)} MiB, cgroup memory.peak ${
          /^\d+$/.test(cgroupPeak.trim())
            ? `${Math.round(Number(cgroupPeak) / 1048576)} MiB`
            : 'n/a'
        }`,
    );
  });

  it('takes over from a balena-supervisor container: same mounts, the apps it made adopted as they run', async () => {
    const host = await newHost('image-takeover');
    const docker = testDocker();
    const engine = new DockerEngine({
      socketPath: DOCKER_SOCKET,
      logger: silentLogger(),
      clock: systemClock,
    });
    const body = release(host.prefix, commitOf(host, 1));
    // The release as balena-supervisor created it on this device: its names and io.balena.* labels,
    // the same create body, no bosun config-hash label. The facts are the ones the agent in the
    // container sees (its own view of /lib/modules and /lib/firmware: not mounted).
    const ctx: NormaliseContext = {
      deviceUuid: FAKE_DEVICE.uuid,
      deviceName: 'e2e-device',
      deviceType: FAKE_DEVICE.deviceType,
      deviceArch: 'amd64',
      osVersion: FAKE_DEVICE.osVersion,
      osBoardRev: undefined,
      hostname: FAKE_DEVICE.hostname,
      apiEndpoint: '',
      deviceApiKey: '',
      supervisorNetworkGateway: '10.114.104.1',
      listenPort: host.port,
      appApiKey: () => '',
      source: 'local',
      lockRoot: host.lockRoot,
      engineSocketPath: '/var/run/docker.sock',
      hostHasKernelModules: false,
      hostHasFirmware: false,
    };
    const target = parseLocalTarget(body, ctx).target;
    const app = Object.values(target.apps)[0]!;
    for (const net of Object.values(app.release!.networks))
      await engine.createNetwork(net.createSpec);
    for (const vol of Object.values(app.release!.volumes))
      await engine.createVolume(vol.createSpec);
    for (const s of Object.values(app.release!.services)) {
      assert.equal(s.createSpec.Labels[CONFIG_HASH_LABEL], undefined);
      const { id } = await engine.createContainer(s.createSpec);
      await engine.startContainer(id);
    }
    await engine.close();
    const made = await host.appContainers();
    assert.deepEqual([...made.keys()].sort(), SERVICES);
    for (const c of made.values()) assert.match(c.env.join('\n'), /BALENA_SERVICE_NAME=/);

    // The supervisor container itself: balena's name, its /data volume and the boot partition.
    assert.equal(
      (await docker.listContainers({ all: true, filters: { name: ['^/balena_supervisor$'] } }))
        .length,
      0,
      'no other balena_supervisor container on this engine',
    );
    const supervisor = await docker.createContainer({
      name: 'balena_supervisor',
      Image: TEST_IMAGES.busybox,
      Cmd: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1 & wait $!; done'],
      Labels: { [TEST_LABEL]: host.prefix },
      HostConfig: {
        NetworkMode: 'none',
        Binds: host.binds().filter((b) => !b.startsWith(DOCKER_SOCKET)),
      },
    });
    await supervisor.start();

    // balenaOS's updater: stop and remove the old supervisor container, start the new one alike.
    await supervisor.stop({ t: 5 });
    await supervisor.remove();
    const bosun = await host.startBosun(tags[0]!, `${host.prefix}-bosun`);
    // In local mode the target comes from the developer again (balena-supervisor's database is not
    // bosun's); the same release must be adopted as it runs.
    await host.post('/v2/local/target-state', body);
    const adopted = await host.waitApplied(SERVICES, bosun);
    assert.deepEqual(idsOf(adopted), idsOf(made), 'adopted, not recreated');
    assert.ok(existsSync(host.lockRoot));
  });
});
