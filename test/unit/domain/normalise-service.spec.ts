import assert from 'node:assert/strict';
import type { ServiceTarget, TargetState } from '../../../src/domain/model.js';
import { parseTargetDevice } from '../../../src/domain/target/parse-target.js';
import type { NormaliseContext } from '../../../src/domain/context.js';
import { APP_UUID, COMMIT, context, device } from './helpers.js';
import type { ServiceInput } from './helpers.js';

function parse(
  services: Record<string, ServiceInput>,
  release: { networks?: Record<string, unknown>; volumes?: Record<string, unknown> } = {},
  ctx: Partial<NormaliseContext> = {},
): TargetState {
  return parseTargetDevice(device(services, release), context(ctx)).target;
}

function svc(
  service: ServiceInput,
  ctx: Partial<NormaliseContext> = {},
  release: { networks?: Record<string, unknown>; volumes?: Record<string, unknown> } = {},
): ServiceTarget {
  return parse({ s: service }, release, ctx).apps[APP_UUID]!.release!.services['s']!;
}

const env = (s: ServiceTarget): Record<string, string> =>
  Object.fromEntries(
    s.createSpec.Env.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

describe('domain: service normalisation', () => {
  describe('environment (docs/protocol.md#injected-environment)', () => {
    it('injects the agent variables under both prefixes, user values winning', () => {
      const e = env(svc({ environment: { BALENA_APP_NAME: 'mine', OWN: '1' } }));
      assert.equal(e['BALENA_APP_ID'], '1011165');
      assert.equal(e['RESIN_APP_ID'], '1011165');
      assert.equal(e['BALENA_APP_UUID'], APP_UUID);
      assert.equal(e['BALENA_SERVICE_NAME'], 's');
      assert.equal(e['BALENA_DEVICE_TYPE'], 'raspberrypi4-64');
      assert.equal(e['BALENA_DEVICE_ARCH'], 'aarch64');
      assert.equal(e['BALENA_HOST_OS_VERSION'], 'balenaOS 6.1.0');
      assert.equal(e['BALENA_APP_LOCK_PATH'], '/tmp/balena/updates.lock');
      assert.equal(e['BALENA_SERVICE_HANDOVER_COMPLETE_PATH'], '/tmp/balena/handover-complete');
      assert.equal(e['RESIN_SERVICE_KILL_ME_PATH'], '/tmp/balena/handover-complete');
      assert.equal(e['BALENA'], '1');
      assert.equal(e['RESIN'], '1');
      assert.equal(e['USER'], 'root');
      assert.equal(e['BALENA_DEVICE_NAME_AT_INIT'], 'damp-brook');
      assert.equal(e['BALENA_APP_NAME'], 'mine');
      assert.equal(e['OWN'], '1');
      assert.equal(e['BALENA_API_KEY'], undefined, 'no device key without the balena-api feature');
    });

    it('lets the top-level environment win over the composition', () => {
      assert.equal(
        env(
          svc({ environment: { A: 'top' }, composition: { environment: { A: 'compose', B: 2 } } }),
        )['A'],
        'top',
      );
      assert.equal(env(svc({ composition: { environment: { B: 2, C: true } } }))['C'], 'true');
    });

    it('supervisor-api: scoped key and address over supervisor0, or localhost with host networking', () => {
      const bridged = svc({
        labels: { 'io.balena.features.supervisor-api': '1' },
        environment: { BALENA_SUPERVISOR_API_KEY: 'forged' },
      });
      assert.equal(
        env(bridged)['BALENA_SUPERVISOR_API_KEY'],
        `scoped-1011165-s`,
        'the real key wins over a user value',
      );
      assert.equal(env(bridged)['RESIN_SUPERVISOR_ADDRESS'], 'http://10.114.104.1:48484');
      assert.deepEqual(bridged.createSpec.NetworkingConfig!.EndpointsConfig['supervisor0'], {});
      const host = svc({
        labels: { 'io.balena.features.supervisor-api': 'true' },
        composition: { network_mode: 'host' },
      });
      assert.equal(env(host)['BALENA_SUPERVISOR_HOST'], '127.0.0.1');
      assert.equal(env(host)['BALENA_SUPERVISOR_ADDRESS'], 'http://127.0.0.1:48484');
      assert.equal(host.createSpec.NetworkingConfig, undefined);
      assert.equal(
        host.createSpec.Hostname,
        'dev-host',
        'host-networked services get the device hostname',
      );
    });

    it('balena-api, board-rev and balena-socket features', () => {
      const s = svc({
        labels: {
          'io.balena.features.balena-api': '1',
          'io.balena.features.host-os.board-rev': 'on',
          'io.balena.features.balena-socket': '1',
        },
      });
      const e = env(s);
      assert.equal(e['BALENA_API_KEY'], 'device-key');
      assert.equal(e['RESIN_API_URL'], 'https://api.example.test');
      assert.equal(e['BALENA_HOST_OS_BOARD_REV'], 'abc123');
      assert.equal(e['DOCKER_HOST'], 'unix:///host/run/balena-engine.sock');
      assert.deepEqual(
        s.createSpec.HostConfig.Mounts!.map((m) => [m.Type, m.Source, m.Target]),
        [
          ['bind', '/var/run/docker.sock', '/host/run/balena-engine.sock'],
          ['bind', '/var/run/docker.sock', '/var/run/docker.sock'],
          ['bind', '/var/run/docker.sock', '/var/run/balena.sock'],
        ],
      );
      const own = svc({
        labels: { 'io.balena.features.balena-socket': '1' },
        environment: { DOCKER_HOST: 'tcp://x:2375' },
      });
      assert.equal(env(own)['DOCKER_HOST'], 'tcp://x:2375', 'DOCKER_HOST only if unset');
    });
  });

  describe('labels (docs/protocol.md#labels)', () => {
    it('copies io.resin.* to io.balena.* (explicit io.balena wins) and injects identity over user labels', () => {
      const s = svc({
        id: 29396,
        labels: {
          'io.resin.features.resin-api': '1',
          'io.resin.update.strategy': 'hand-over',
          'io.balena.update.strategy': 'kill-then-download',
          'io.balena.service-name': 'spoof',
          mine: 'x',
        },
      });
      const l = s.createSpec.Labels;
      assert.equal(l['io.balena.features.balena-api'], '1');
      assert.equal(l['io.resin.features.resin-api'], '1');
      assert.equal(l['io.balena.update.strategy'], 'kill-then-download');
      assert.equal(s.updateStrategy, 'kill-then-download');
      assert.equal(l['io.balena.supervised'], 'true');
      assert.equal(l['io.balena.app-id'], '1011165');
      assert.equal(l['io.balena.app-uuid'], APP_UUID);
      assert.equal(l['io.balena.service-id'], '29396');
      assert.equal(l['io.balena.service-name'], 's');
      assert.equal(l['mine'], 'x');
      assert.equal(
        env(s)['BALENA_API_KEY'],
        'device-key',
        'legacy feature label enables the feature',
      );
    });

    it('reads update strategy, hand-over timeout and requires-reboot from labels (io.resin.* too)', () => {
      const s = svc({
        labels: {
          'io.resin.update.strategy': 'hand-over',
          'io.resin.update.handover-timeout': '30000',
          'io.balena.update.requires-reboot': 'TRUE',
        },
      });
      assert.equal(s.updateStrategy, 'hand-over');
      assert.equal(s.handoverTimeoutMs, 30000);
      assert.equal(s.requiresReboot, true);
    });
  });

  describe('binds, volumes and features (docs/protocol.md#feature-labels, #volumes-and-binds)', () => {
    it('binds the lock directory at /tmp/balena and /tmp/resin', () => {
      const binds = svc({}, { lockRoot: '/run/bosun/locks/' }).createSpec.HostConfig.Binds!;
      assert.deepEqual(binds, [
        '/run/bosun/locks/services/1011165/s:/tmp/resin',
        '/run/bosun/locks/services/1011165/s:/tmp/balena',
      ]);
    });

    it('maps named, anonymous, long-syntax volume and tmpfs mounts', () => {
      const s = svc(
        {
          composition: {
            volumes: [
              'data:/data:ro',
              '/cache',
              {
                type: 'volume',
                source: 'logs',
                target: '/logs',
                read_only: true,
                volume: { nocopy: true },
              },
              { type: 'tmpfs', target: '/run/t', tmpfs: { size: '1m' } },
              { type: 'volume', target: '/anon' },
            ],
          },
        },
        {},
        { volumes: { data: {}, logs: null } },
      );
      assert.deepEqual(s.volumes, ['data', 'logs']);
      assert.equal(s.createSpec.HostConfig.Binds![0], '1011165_data:/data:ro');
      assert.deepEqual(s.createSpec.Volumes, { '/cache': {} });
      assert.deepEqual(s.createSpec.HostConfig.Mounts, [
        {
          Type: 'volume',
          Source: '1011165_logs',
          Target: '/logs',
          ReadOnly: true,
          VolumeOptions: { NoCopy: true },
        },
        { Type: 'tmpfs', Target: '/run/t', TmpfsOptions: { SizeBytes: 1024 * 1024 } },
        { Type: 'volume', Target: '/anon' },
      ]);
    });

    it('adds feature binds; kernel modules and firmware only when the host has them', () => {
      const labels = Object.fromEntries(
        [
          'journal-logs',
          'dbus',
          'kernel-modules',
          'firmware',
          'sysfs',
          'procfs',
          'extra-firmware',
        ].map((f) => [`io.balena.features.${f}`, '1']),
      );
      const binds = svc(
        { labels },
        { hostHasKernelModules: true, hostHasFirmware: false },
      ).createSpec.HostConfig.Binds!.slice(2);
      assert.deepEqual(binds, [
        '/var/log/journal:/var/log/journal:ro',
        '/run/log/journal:/run/log/journal:ro',
        '/etc/machine-id:/etc/machine-id:ro',
        '/run/dbus:/host/run/dbus',
        '/lib/modules:/lib/modules',
        '/sys:/sys',
        '/proc:/proc',
        'extra-firmware:/extra-firmware',
      ]);
      const withFirmware = svc({ labels }, { hostHasKernelModules: false, hostHasFirmware: true })
        .createSpec.HostConfig.Binds!;
      assert.ok(
        withFirmware.includes('/lib/firmware:/lib/firmware') &&
          !withFirmware.includes('/lib/modules:/lib/modules'),
      );
      assert.equal(
        svc({ labels: { 'io.balena.features.dbus': '0' } }).createSpec.HostConfig.Binds!.length,
        2,
        'a falsy label enables nothing',
      );
    });

    it('gpu feature asks for a GPU device', () => {
      assert.deepEqual(
        svc({ labels: { 'io.balena.features.gpu': '1' } }).createSpec.HostConfig.DeviceRequests,
        [{ Driver: '', Count: 1, DeviceIDs: [], Capabilities: [['gpu']], Options: {} }],
      );
    });
  });

  describe('networking (docs/protocol.md#networks-and-volumes)', () => {
    it('joins <appUuid>_default with the service name as alias when nothing is said', () => {
      const s = svc({});
      assert.equal(s.networkMode, `${APP_UUID}_default`);
      assert.equal(s.createSpec.HostConfig.NetworkMode, `${APP_UUID}_default`);
      assert.deepEqual(s.networks, ['default']);
      assert.deepEqual(s.createSpec.NetworkingConfig, {
        EndpointsConfig: { [`${APP_UUID}_default`]: { Aliases: ['s'] } },
      });
    });

    it('uses the first declared network as the main one, keeps aliases and static addresses', () => {
      const s = svc(
        {
          composition: {
            networks: {
              backend: { aliases: ['api.internal'], ipv4_address: '172.28.0.5' },
              default: null,
            },
          },
        },
        {},
        {
          networks: {
            backend: { ipam: { config: [{ subnet: '172.28.0.0/16', gateway: '172.28.0.1' }] } },
          },
        },
      );
      assert.equal(s.networkMode, `${APP_UUID}_backend`);
      assert.deepEqual(s.networks, ['backend', 'default']);
      assert.deepEqual(Object.keys(s.createSpec.NetworkingConfig!.EndpointsConfig), [
        `${APP_UUID}_backend`,
        `${APP_UUID}_default`,
      ]);
      assert.deepEqual(s.createSpec.NetworkingConfig!.EndpointsConfig[`${APP_UUID}_backend`], {
        Aliases: ['api.internal', 's'],
        IPAMConfig: { IPv4Address: '172.28.0.5' },
      });
    });

    it('rewrites a network_mode naming an app network and puts it first', () => {
      const s = svc(
        { composition: { network_mode: 'backend', networks: ['default'] } },
        {},
        { networks: { backend: {} } },
      );
      assert.equal(s.createSpec.HostConfig.NetworkMode, `${APP_UUID}_backend`);
      assert.deepEqual(s.networks, ['backend', 'default']);
    });

    it('keeps host/none/service: modes; service: becomes a dependency', () => {
      const t = parse({
        a: {},
        b: { composition: { network_mode: 'service:a' } },
        c: { composition: { network_mode: 'none' } },
      });
      const b = t.apps[APP_UUID]!.release!.services['b']!;
      assert.equal(b.networkMode, 'service:a');
      assert.equal(b.createSpec.HostConfig.NetworkMode, 'service:a');
      assert.deepEqual(b.networks, []);
      assert.deepEqual(b.dependsOn, { a: 'service_started' });
      assert.equal(t.apps[APP_UUID]!.release!.services['c']!.networkMode, 'none');
    });

    it('creates a config-only default network only when every service uses host networking', () => {
      const allHost = parse({ a: { composition: { network_mode: 'host' } } }).apps[APP_UUID]!
        .release!.networks;
      assert.equal(allHost['default']!.createSpec.ConfigOnly, true);
      const mixed = parse({ a: { composition: { network_mode: 'host' } }, b: {} }).apps[APP_UUID]!
        .release!.networks;
      assert.equal(mixed['default']!.createSpec.ConfigOnly, undefined);
      assert.notEqual(allHost['default']!.configHash, mixed['default']!.configHash);
    });

    it('network create spec: names, defaults, IPAM and labels (docs/protocol.md#networks-and-volumes)', () => {
      const nets = parse(
        { a: {} },
        {
          networks: {
            backend: {
              driver_opts: { mtu: 1400 },
              ipam: { config: [{ subnet: '172.28.0.0/16', gateway: '172.28.0.1' }] },
              labels: ['team=x'],
            },
          },
        },
      ).apps[APP_UUID]!.release!.networks;
      assert.deepEqual(nets['backend']!.createSpec, {
        Name: `${APP_UUID}_backend`,
        Driver: 'bridge',
        Options: { mtu: '1400' },
        IPAM: { Driver: 'default', Config: [{ Subnet: '172.28.0.0/16', Gateway: '172.28.0.1' }] },
        Labels: {
          team: 'x',
          'io.balena.supervised': 'true',
          'io.balena.app-id': '1011165',
          'io.balena.app-uuid': APP_UUID,
          'io.balena.private.ipam.config': 'true',
        },
      });
      assert.equal(nets['default']!.engineName, `${APP_UUID}_default`);
      assert.equal(nets['default']!.createSpec.Labels['io.balena.private.ipam.config'], undefined);
    });

    it('volume create spec', () => {
      const vols = parse(
        { a: {} },
        { volumes: { data: { driver_opts: { type: 'tmpfs' }, labels: { k: 'v' } } } },
      ).apps[APP_UUID]!.release!.volumes;
      assert.deepEqual(vols['data']!.createSpec, {
        Name: '1011165_data',
        Driver: 'local',
        DriverOpts: { type: 'tmpfs' },
        Labels: { k: 'v', 'io.balena.supervised': 'true', 'io.balena.app-uuid': APP_UUID },
      });
    });
  });

  describe('compose fields', () => {
    it('maps every supported field into the create spec', () => {
      const s = svc({
        composition: {
          cap_add: ['NET_ADMIN'],
          cap_drop: ['MKNOD'],
          cgroup_parent: 'cg',
          command: 'node "server.js" --port 80',
          entrypoint: ['/init'],
          cpu_quota: 50000,
          cpu_shares: 512,
          cpus: '1.5',
          cpuset: '0-1',
          devices: ['/dev/ttyUSB0', '/dev/i2c-1:/dev/i2c:rw'],
          dns: '8.8.8.8',
          dns_opt: ['ndots:1'],
          dns_search: ['lan'],
          domainname: 'lan',
          extra_hosts: ['db=10.0.0.2', 'cache:10.0.0.3'],
          group_add: ['dialout', 20],
          healthcheck: {
            test: 'curl -f localhost',
            interval: '30s',
            timeout: '5s',
            start_period: '1m',
            retries: 3,
          },
          hostname: 'box',
          init: true,
          ipc: 'private',
          mac_address: '02:42:ac:11:00:02',
          mem_limit: '256m',
          mem_reservation: '128m',
          oom_kill_disable: true,
          oom_score_adj: -100,
          pid: 'host',
          pids_limit: 100,
          ports: ['8080:80', '53:53/udp'],
          privileged: true,
          read_only: true,
          restart: 'On-Failure ',
          security_opt: ['no-new-privileges', 'label=disable'],
          shm_size: '128m',
          stop_grace_period: '1m30s',
          stop_signal: 'SIGINT',
          sysctls: ['net.core.somaxconn=1024'],
          tmpfs: '/run',
          tty: false,
          ulimits: { nofile: { soft: 1024, hard: 2048 }, nproc: 512 },
          user: 1000,
          userns_mode: 'host',
          working_dir: '/usr/src/app/',
          depends_on: {},
        },
      });
      const c = s.createSpec;
      assert.deepEqual(c.Cmd, ['node', 'server.js', '--port', '80']);
      assert.deepEqual(c.Entrypoint, ['/init']);
      assert.equal(c.Hostname, 'box');
      assert.equal(c.Domainname, 'lan');
      assert.equal(c.User, '1000');
      assert.equal(c.WorkingDir, '/usr/src/app');
      assert.equal(c.Tty, false);
      assert.equal(c.StopSignal, 'SIGINT');
      assert.equal(c.StopTimeout, 90);
      assert.equal(s.stopTimeoutSec, 90);
      assert.equal(c.MacAddress, '02:42:ac:11:00:02');
      assert.deepEqual(c.Healthcheck, {
        Test: ['CMD-SHELL', 'curl -f localhost'],
        Interval: 30e9,
        Timeout: 5e9,
        StartPeriod: 60e9,
        Retries: 3,
      });
      assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
      const h = c.HostConfig;
      assert.deepEqual(h.PortBindings, {
        '80/tcp': [{ HostIp: '', HostPort: '8080' }],
        '53/udp': [{ HostIp: '', HostPort: '53' }],
      });
      assert.deepEqual(h.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 0 });
      assert.deepEqual([h.CapAdd, h.CapDrop], [['NET_ADMIN'], ['MKNOD']]);
      assert.equal(h.CgroupParent, 'cg');
      assert.deepEqual(
        [h.CpuQuota, h.CpuShares, h.NanoCpus, h.CpusetCpus],
        [50000, 512, 1.5e9, '0-1'],
      );
      assert.deepEqual(h.Devices, [
        { PathOnHost: '/dev/ttyUSB0', PathInContainer: '/dev/ttyUSB0', CgroupPermissions: 'rwm' },
        { PathOnHost: '/dev/i2c-1', PathInContainer: '/dev/i2c', CgroupPermissions: 'rw' },
      ]);
      assert.deepEqual([h.Dns, h.DnsOptions, h.DnsSearch], [['8.8.8.8'], ['ndots:1'], ['lan']]);
      assert.deepEqual(h.ExtraHosts, ['db:10.0.0.2', 'cache:10.0.0.3']);
      assert.deepEqual(h.GroupAdd, ['dialout', '20']);
      assert.equal(h.Init, true);
      assert.equal(h.IpcMode, 'private');
      assert.deepEqual(
        [h.Memory, h.MemoryReservation, h.ShmSize],
        [256 * 2 ** 20, 128 * 2 ** 20, 128 * 2 ** 20],
      );
      assert.deepEqual([h.OomKillDisable, h.OomScoreAdj], [true, -100]);
      assert.deepEqual([h.PidMode, h.PidsLimit, h.UsernsMode], ['host', 100, 'host']);
      assert.deepEqual([h.Privileged, h.ReadonlyRootfs], [true, true]);
      assert.deepEqual(h.SecurityOpt, ['no-new-privileges']);
      assert.deepEqual(h.Sysctls, { 'net.core.somaxconn': '1024' });
      assert.deepEqual(h.Tmpfs, { '/run': '' });
      assert.deepEqual(h.Ulimits, [
        { Name: 'nofile', Soft: 1024, Hard: 2048 },
        { Name: 'nproc', Soft: 512, Hard: 512 },
      ]);
    });

    it('fills the defaults balena fills (tty true, restart always, stop timeout 10, ipc shareable)', () => {
      const s = svc({});
      assert.equal(s.createSpec.Tty, true);
      assert.deepEqual(s.createSpec.HostConfig.RestartPolicy, {
        Name: 'always',
        MaximumRetryCount: 0,
      });
      assert.equal(s.stopTimeoutSec, 10);
      assert.equal(s.createSpec.HostConfig.IpcMode, 'shareable');
      assert.equal(s.running, true);
      assert.equal(s.createSpec.Cmd, undefined, 'the image command is kept when compose has none');
      assert.equal(
        s.createSpec.Healthcheck,
        undefined,
        "the image's healthcheck is kept when compose has none",
      );
    });

    it('healthcheck: disable, durations only (image test kept), camelCase sub-keys', () => {
      assert.deepEqual(
        svc({ composition: { healthcheck: { disable: true } } }).createSpec.Healthcheck,
        { Test: ['NONE'] },
      );
      assert.deepEqual(
        svc({ composition: { healthcheck: { interval: '10s' } } }).createSpec.Healthcheck,
        { Test: [], Interval: 10e9 },
      );
      assert.deepEqual(
        svc({ composition: { healthcheck: { test: ['CMD', 'true'], startPeriod: '5s' } } })
          .createSpec.Healthcheck,
        { Test: ['CMD', 'true'], StartPeriod: 5e9 },
      );
    });

    it('depends_on long form keeps each condition', () => {
      const t = parse({
        db: {},
        cache: {},
        api: { composition: { depends_on: { db: { condition: 'service_healthy' }, cache: null } } },
      });
      assert.deepEqual(t.apps[APP_UUID]!.release!.services['api']!.dependsOn, {
        db: 'service_healthy',
        cache: 'service_started',
      });
    });

    it('running: false and names compatible with balena-supervisor', () => {
      const s = svc({ running: false, id: 7, image_id: 8 });
      assert.equal(s.running, false);
      assert.equal(s.containerName, `s_8_557631_${COMMIT}`);
      assert.equal(s.createSpec.name, s.containerName);
    });
  });

  describe('host OS and supervisor apps (docs/protocol.md#supervisor-and-host-apps)', () => {
    it('keeps only data-store services of a host app', () => {
      const doc = device({
        os: { labels: { 'io.balena.image.store': 'root' } },
        helper: { labels: { 'io.resin.image.store': 'data' } },
        plain: {},
      }) as { apps: Record<string, Record<string, unknown>> };
      doc.apps[APP_UUID]!['is_host'] = true;
      const services = parseTargetDevice(doc, context()).target.apps[APP_UUID]!.release!.services;
      assert.deepEqual(Object.keys(services).sort(), ['helper', 'plain']);
    });
  });

  it('normalising again with new device facts changes only what depends on them', () => {
    const doc = device({ a: {} });
    const one = parseTargetDevice(doc, context()).target.apps[APP_UUID]!.release!.services['a']!;
    const renamed = parseTargetDevice(doc, context({ deviceName: 'new-name' })).target.apps[
      APP_UUID
    ]!.release!.services['a']!;
    assert.equal(
      renamed.configHash,
      one.configHash,
      'a device rename does not recreate containers',
    );
    const newOs = parseTargetDevice(doc, context({ osVersion: 'balenaOS 7' })).target.apps[
      APP_UUID
    ]!.release!.services['a']!;
    assert.notEqual(
      newOs.configHash,
      one.configHash,
      'an OS update changes BALENA_HOST_OS_VERSION, so the container is recreated',
    );
  });
});
