import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { canonicalJson } from '../../../src/domain/canonical-json.js';
import {
  CONFIG_HASH_LABEL,
  comparableServiceConfig,
  serviceConfigHash,
} from '../../../src/domain/config-hash.js';
import type { ContainerCreateSpec } from '../../../src/domain/container-spec.js';
import type { NormaliseContext } from '../../../src/domain/context.js';
import type { TargetState } from '../../../src/domain/model.js';
import {
  parseLocalTarget,
  parseTarget,
  parseTargetDevice,
} from '../../../src/domain/target/parse-target.js';
import { APP_UUID, COMMIT, context, device, fixture } from './helpers.js';
import type { ServiceInput } from './helpers.js';

const GOLDEN = fileURLToPath(new URL('../../golden/domain/config-hashes.json', import.meta.url));

function releaseOf(
  t: TargetState,
  appUuid = APP_UUID,
): NonNullable<TargetState['apps'][string]['release']> {
  return t.apps[appUuid]!.release!;
}

function serviceHash(
  service: ServiceInput,
  release: { networks?: Record<string, unknown>; volumes?: Record<string, unknown> } = {
    networks: { n: {} },
    volumes: { v: {} },
  },
): string {
  return releaseOf(parseTargetDevice(device({ s: service, other: {} }, release), context()).target)
    .services['s']!.configHash;
}

/** Device facts spelled out here, not shared, so that editing test helpers cannot move the goldens. */
function goldenContext(deviceUuid: string): NormaliseContext {
  return {
    deviceUuid,
    deviceName: 'golden-device',
    deviceType: 'raspberrypi4-64',
    deviceArch: 'aarch64',
    osVersion: 'balenaOS 6.1.0',
    osBoardRev: undefined,
    hostname: 'golden-host',
    apiEndpoint: 'https://api.example.test',
    deviceApiKey: 'device-key',
    supervisorNetworkGateway: '10.114.104.1',
    listenPort: 48484,
    appApiKey: (appId, serviceName) => `scoped-${appId}-${serviceName}`,
    source: 'cloud',
    lockRoot: '/tmp/balena-supervisor',
    engineSocketPath: '/var/run/docker.sock',
    hostHasKernelModules: true,
    hostHasFirmware: true,
  };
}

/** Hashes of a few real targets; any change to them recreates containers on every device. */
function currentHashes(): Record<string, string> {
  const hashes: Record<string, string> = {};
  const openbalena = parseTarget(
    fixture('openbalena-v49.json'),
    goldenContext('3895e77a6c1df35d1b03f87e5c0fc638'),
  ).target;
  for (const [name, s] of Object.entries(
    releaseOf(openbalena, '318b14c2ed8d44faa35b5bd560d72e79').services,
  ))
    hashes[`openbalena-v49/service/${name}`] = s.configHash;
  const reference = releaseOf(
    parseTarget(fixture('reference-3.7-v3.json'), goldenContext('3a9c1f0e5b7d4e2f8c6a0b1d2e3f4a5b'))
      .target,
  );
  for (const [name, s] of Object.entries(reference.services))
    hashes[`reference-3.7/service/${name}`] = s.configHash;
  for (const [name, n] of Object.entries(reference.networks))
    hashes[`reference-3.7/network/${name}`] = n.configHash;
  for (const [name, v] of Object.entries(reference.volumes))
    hashes[`reference-3.7/volume/${name}`] = v.configHash;
  const local = releaseOf(
    parseLocalTarget(fixture('balena-cli-push-v2-local.json'), goldenContext('local-device'))
      .target,
    '1',
  );
  for (const [name, s] of Object.entries(local.services))
    hashes[`balena-cli-local/service/${name}`] = s.configHash;
  hashes['host-networked-only/network/default'] = releaseOf(
    parseTargetDevice(device({ s: { composition: { network_mode: 'host' } } }), goldenContext('d'))
      .target,
  ).networks['default']!.configHash;
  return Object.fromEntries(Object.entries(hashes).sort(([a], [b]) => a.localeCompare(b)));
}

describe('domain: config hash', () => {
  it('matches the pinned golden values (a change here recreates every container of every device)', () => {
    const hashes = currentHashes();
    if (process.env['UPDATE_GOLDEN'] === '1')
      writeFileSync(GOLDEN, `${JSON.stringify(hashes, null, 2)}\n`);
    assert.ok(existsSync(GOLDEN), `${GOLDEN} is missing (create it with UPDATE_GOLDEN=1)`);
    const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as Record<string, string>;
    assert.deepEqual(
      hashes,
      golden,
      'config hashes changed. Deployed containers carry the old hashes and would ALL be recreated. If that is really intended, run with UPDATE_GOLDEN=1 and say so in the commit message.',
    );
  });

  it('is sha256 hex and exported with its label name', () => {
    assert.match(serviceHash({}), /^[0-9a-f]{64}$/);
    assert.equal(CONFIG_HASH_LABEL, 'io.bosun.config-hash');
  });

  describe('does not change for different spellings of the same config', () => {
    const same: Array<[string, ServiceInput, ServiceInput]> = [
      [
        'env key order',
        { environment: { A: '1', B: '2' }, composition: { environment: { C: '3', D: '4' } } },
        { environment: { B: '2', A: '1' }, composition: { environment: { D: '4', C: '3' } } },
      ],
      ['label key order', { labels: { a: '1', b: '2' } }, { labels: { b: '2', a: '1' } }],
      [
        'composition key order',
        { composition: { privileged: true, ports: ['80'], restart: 'no' } },
        { composition: { restart: 'no', ports: ['80'], privileged: true } },
      ],
      ['restart: always vs absent', { composition: { restart: 'always' } }, {}],
      ['tty: true vs absent', { composition: { tty: true } }, {}],
      [
        'privileged/read_only/oom_kill_disable: false vs absent',
        { composition: { privileged: false, read_only: false, oom_kill_disable: false } },
        {},
      ],
      ['stop_grace_period 10s vs absent', { composition: { stop_grace_period: '10s' } }, {}],
      ['shm_size 64m vs absent', { composition: { shm_size: '64m' } }, {}],
      ['ipc shareable vs absent', { composition: { ipc: 'shareable' } }, {}],
      [
        'empty lists vs absent',
        { composition: { cap_add: [], dns: [], extra_hosts: [], security_opt: [] } },
        {},
      ],
      [
        'environment list vs map',
        { composition: { environment: ['A=1', 'B=x=y'] } },
        { composition: { environment: { A: '1', B: 'x=y' } } },
      ],
      [
        'environment number vs string',
        { composition: { environment: { N: 1 } } },
        { composition: { environment: { N: '1' } } },
      ],
      [
        'labels list vs map',
        { composition: { labels: ['a=1'] } },
        { composition: { labels: { a: '1' } } },
      ],
      [
        'depends_on list vs long form',
        { composition: { depends_on: ['other'] } },
        { composition: { depends_on: { other: { condition: 'service_started' } } } },
      ],
      [
        'networks list vs map',
        { composition: { networks: ['n', 'default'] } },
        { composition: { networks: { n: null, default: {} } } },
      ],
      ['port "80" vs 80', { composition: { ports: ['80'] } }, { composition: { ports: [80] } }],
      [
        'port range vs single ports',
        { composition: { ports: ['8000-8001:80-81'] } },
        { composition: { ports: ['8000:80', '8001:81'] } },
      ],
      [
        'cap_add order',
        { composition: { cap_add: ['A', 'B'] } },
        { composition: { cap_add: ['B', 'A'] } },
      ],
      [
        'camelCase vs snake_case',
        { composition: { memLimit: '1g', networkMode: 'host' } },
        { composition: { mem_limit: '1g', network_mode: 'host' } },
      ],
      [
        'command string vs list',
        { composition: { command: 'sleep infinity' } },
        { composition: { command: ['sleep', 'infinity'] } },
      ],
      [
        'dns string vs list',
        { composition: { dns: '1.1.1.1' } },
        { composition: { dns: ['1.1.1.1'] } },
      ],
      [
        'io.resin label vs io.balena label (both set)',
        { labels: { 'io.resin.features.dbus': '1' } },
        { labels: { 'io.resin.features.dbus': '1', 'io.balena.features.dbus': '1' } },
      ],
      [
        'image, image id, service id unchanged apart',
        { image: 'registry.test/a:1', image_id: 1 },
        { image: 'registry.test/b@sha256:ff', image_id: 2 },
      ],
      ['running state', { running: true }, { running: false }],
    ];
    for (const [name, a, b] of same) it(name, () => assert.equal(serviceHash(a), serviceHash(b)));

    it('commit and release id (a commit-only change is a rename, not a recreate)', () => {
      const doc = device({ s: {} }) as {
        apps: Record<string, { releases: Record<string, { id: number }> }>;
      };
      const before = releaseOf(parseTargetDevice(doc, context()).target).services['s']!;
      const release = doc.apps[APP_UUID]!.releases[COMMIT]!;
      doc.apps[APP_UUID]!.releases = { othercommit: { ...release, id: 999 } };
      const after = releaseOf(parseTargetDevice(doc, context()).target).services['s']!;
      assert.notEqual(after.containerName, before.containerName);
      assert.equal(after.configHash, before.configHash);
    });

    it('device name (BALENA_DEVICE_NAME_AT_INIT)', () => {
      const doc = device({ s: {} });
      const a = releaseOf(parseTargetDevice(doc, context({ deviceName: 'a' })).target).services[
        's'
      ]!;
      const b = releaseOf(parseTargetDevice(doc, context({ deviceName: 'b' })).target).services[
        's'
      ]!;
      assert.notDeepEqual(a.createSpec.Env, b.createSpec.Env);
      assert.equal(a.configHash, b.configHash);
    });

    it('network and volume definitions: defaults and option order', () => {
      const net = (def: Record<string, unknown>): string =>
        releaseOf(parseTargetDevice(device({ s: {} }, { networks: { n: def } }), context()).target)
          .networks['n']!.configHash;
      assert.equal(net({}), net({ driver: 'bridge', ipam: { driver: 'default' } }));
      assert.equal(
        net({ driver_opts: { a: '1', b: 2 } }),
        net({ driver_opts: { b: '2', a: '1' } }),
      );
      const vol = (def: Record<string, unknown> | null): string =>
        releaseOf(parseTargetDevice(device({ s: {} }, { volumes: { v: def } }), context()).target)
          .volumes['v']!.configHash;
      assert.equal(vol(null), vol({ driver: 'local' }));
      assert.equal(vol({}), vol({ labels: [] }));
    });
  });

  describe('changes when the config does', () => {
    const different: Array<[string, ServiceInput, ServiceInput]> = [
      ['env value', { environment: { A: '1' } }, { environment: { A: '2' } }],
      ['label value', { labels: { a: '1' } }, { labels: { a: '2' } }],
      ['port', { composition: { ports: ['80'] } }, { composition: { ports: ['81'] } }],
      ['restart', { composition: { restart: 'no' } }, {}],
      ['tty', { composition: { tty: false } }, {}],
      ['privileged', { composition: { privileged: true } }, {}],
      ['network', { composition: { networks: ['n'] } }, {}],
      ['alias', { composition: { networks: { default: { aliases: ['x'] } } } }, {}],
      ['volume', { composition: { volumes: ['v:/data'] } }, {}],
      ['command', { composition: { command: ['a'] } }, {}],
      [
        'dns order',
        { composition: { dns: ['1.1.1.1', '8.8.8.8'] } },
        { composition: { dns: ['8.8.8.8', '1.1.1.1'] } },
      ],
      ['feature label', { labels: { 'io.balena.features.dbus': '1' } }, {}],
      ['stop grace period', { composition: { stop_grace_period: '30s' } }, {}],
    ];
    for (const [name, a, b] of different)
      it(name, () => assert.notEqual(serviceHash(a), serviceHash(b)));

    it('a regenerated scoped API key (regenerate-api-key, docs/protocol.md#api-authentication)', () => {
      const doc = device({ s: { labels: { 'io.balena.features.supervisor-api': '1' } } });
      const a = releaseOf(parseTargetDevice(doc, context({ appApiKey: () => 'k1' })).target)
        .services['s']!;
      const b = releaseOf(parseTargetDevice(doc, context({ appApiKey: () => 'k2' })).target)
        .services['s']!;
      assert.notEqual(a.configHash, b.configHash);
    });
  });

  it('builds the comparable config in canonical order (the hash skips re-sorting it)', () => {
    const rich = releaseOf(
      parseTargetDevice(
        device(
          {
            s: {
              labels: {
                'io.balena.features.gpu': '1',
                'io.balena.features.balena-socket': '1',
                '10': 'a',
                '9': 'b',
              },
              composition: {
                healthcheck: { test: 'true', interval: '1s', retries: 1 },
                ports: ['80', '53/udp'],
                volumes: ['v:/v', { type: 'tmpfs', target: '/t' }],
                networks: { n: { aliases: ['x'], ipv4_address: '10.0.0.2' }, default: null },
                sysctls: { 'net.b': 1, 'net.a': 2 },
                tmpfs: ['/b', '/a'],
                ulimits: { nproc: 1, nofile: 2 },
              },
            },
          },
          { networks: { n: {} }, volumes: { v: {} } },
        ),
        context(),
      ).target,
    ).services['s']!;
    const comparable = comparableServiceConfig(rich.createSpec);
    assert.equal(JSON.stringify(comparable), canonicalJson(comparable));
  });

  it('refuses to hash a create-spec field it does not know (so new fields cannot be silently ignored)', () => {
    const spec = {
      name: 'x',
      Image: 'i',
      Env: [],
      Labels: {},
      Tty: true,
      HostConfig: { NetworkMode: 'bridge', RestartPolicy: { Name: 'always' }, NewThing: 1 },
    } as unknown as ContainerCreateSpec;
    assert.throws(() => serviceConfigHash(spec), /HostConfig\.NewThing/);
    const known = {
      ...spec,
      HostConfig: { NetworkMode: 'bridge', RestartPolicy: { Name: 'always' as const } },
    };
    assert.equal(comparableServiceConfig(known)['ShmSize'], 64 * 1024 * 1024);
  });
});
