import assert from 'node:assert/strict';
import {
  parseLocalTarget,
  parseTarget,
  parseTargetDevice,
} from '../../../src/domain/target/parse-target.js';
import {
  APP_UUID,
  COMMIT,
  SERVICE_PATH,
  cloud,
  context,
  device,
  fixture,
  issuesOf,
} from './helpers.js';
import type { ServiceInput } from './helpers.js';

const OPENBALENA_DEVICE = '3895e77a6c1df35d1b03f87e5c0fc638';

describe('domain: target validation', () => {
  describe('real documents', () => {
    it('parses the body a real openBalena v49 returned', () => {
      const { target, warnings } = parseTarget(
        fixture('openbalena-v49.json'),
        context({ deviceUuid: OPENBALENA_DEVICE }),
      );
      const app = target.apps['318b14c2ed8d44faa35b5bd560d72e79']!;
      assert.equal(app.appId, 1);
      assert.equal(app.release?.commit, '48cdf383f5289f3abf01177307c5fbfa');
      assert.deepEqual(Object.keys(app.release.services).sort(), ['main', 'sidecar']);
      // The cloud's registry location is pulled, not the compose `image:` (fixtures/cloud/README.md).
      assert.equal(
        app.release.services['main']!.image,
        'registry2.balenadev.io/v2/f2894dd331bcd52848caf7794634831f@sha256:0000',
      );
      assert.deepEqual(warnings, []);
    });

    it('parses a fleet that has no release yet (no `releases` key)', () => {
      const { target } = parseTarget(
        fixture('openbalena-no-release.json'),
        context({ deviceUuid: OPENBALENA_DEVICE }),
      );
      const app = target.apps['318b14c2ed8d44faa35b5bd560d72e79']!;
      assert.equal(app.release, undefined);
      assert.equal(app.class, 'fleet');
    });

    it('parses a complete three-app document and drops the supervisor and host OS services', () => {
      const { target } = parseTarget(
        fixture('reference-3.7-v3.json'),
        context({ deviceUuid: '3a9c1f0e5b7d4e2f8c6a0b1d2e3f4a5b' }),
      );
      assert.deepEqual(target.apps['900de4f3cbac4b9bbd232885a35e407b']!.release!.services, {});
      assert.deepEqual(target.apps['f1e2d3c4b5a697887766554433221100']!.release!.services, {});
      const fleet = target.apps['d149c5d1551b4286a930d57284a02511']!.release!;
      assert.deepEqual(Object.keys(fleet.services).sort(), ['api', 'cache']);
      assert.deepEqual(Object.keys(fleet.networks).sort(), ['backend', 'default']);
    });

    it('accepts numeric-string ids and coerces them', () => {
      const doc = device({ main: {} }) as {
        apps: Record<
          string,
          {
            id: unknown;
            releases: Record<
              string,
              { id: unknown; services: Record<string, { id: unknown; image_id: unknown }> }
            >;
          }
        >;
      };
      const app = doc.apps[APP_UUID]!;
      app.id = '42';
      app.releases[COMMIT]!.id = '7';
      app.releases[COMMIT]!.services['main']!.image_id = '9';
      const { target, document } = parseTargetDevice(doc, context());
      const svc = target.apps[APP_UUID]!.release!.services['main']!;
      assert.equal(target.apps[APP_UUID]!.appId, 42);
      assert.equal(svc.containerName, `main_9_7_${COMMIT}`);
      assert.equal(document.apps[APP_UUID]!.id, 42, 'the stored document has numbers');
    });

    it('re-parsing the stored document gives the same target', () => {
      const first = parseTarget(
        fixture('reference-3.7-v3.json'),
        context({ deviceUuid: '3a9c1f0e5b7d4e2f8c6a0b1d2e3f4a5b' }),
      );
      const again = parseTargetDevice(
        JSON.parse(JSON.stringify(first.document)),
        context({ deviceUuid: '3a9c1f0e5b7d4e2f8c6a0b1d2e3f4a5b' }),
      );
      assert.deepEqual(again.target, first.target);
    });

    it('rejects a document without an entry for this device', () => {
      const issues = issuesOf(() =>
        parseTarget(cloud(device({})), context({ deviceUuid: 'other' })),
      );
      assert.match(issues[0]!.reason, /no entry for this device/);
    });
  });

  describe('balena-cli local (v2) body', () => {
    it('converts the body balena-cli 22.5.5 posted into app "1"', () => {
      const { target, force, warnings } = parseLocalTarget(
        fixture('balena-cli-push-v2-local.json'),
        context(),
      );
      assert.equal(force, false);
      assert.deepEqual(warnings, []);
      assert.equal(target.name, 'my-device');
      assert.deepEqual(target.config, { HOST_CONFIG_foo: 'bar' });
      const app = target.apps['1']!;
      assert.equal(app.appId, 1);
      assert.equal(app.source, 'local');
      assert.equal(app.release!.releaseId, 1);
      assert.equal(app.release!.commit, '10ca12e1ea5e');
      const web = app.release!.services['web']!;
      const worker = app.release!.services['worker']!;
      assert.equal(web.image, 'local_web:latest');
      assert.equal(web.containerName, 'web_1_1_10ca12e1ea5e');
      assert.deepEqual(web.createSpec.HostConfig.PortBindings, {
        '80/tcp': [{ HostIp: '', HostPort: '8080' }],
      });
      assert.ok(web.createSpec.Env.includes('ONLY_WEB=yes'));
      assert.deepEqual(worker.dependsOn, { web: 'service_started' });
      assert.deepEqual(worker.volumes, ['data']);
      assert.ok(worker.createSpec.HostConfig.Binds!.includes('1_data:/data'));
      assert.equal(app.release!.networks['default']!.engineName, '1_default');
      assert.equal(app.release!.volumes['data']!.engineName, '1_data');
    });

    it('gives an app without a commit no release', () => {
      const { target } = parseLocalTarget(
        {
          local: {
            name: 'x',
            config: {},
            apps: { '1': { name: 'localapp', releaseId: '1', services: {} } },
          },
        },
        context(),
      );
      assert.equal(target.apps['1']!.release, undefined);
    });

    it('honours force', () => {
      assert.equal(parseLocalTarget({ local: { apps: {} }, force: true }, context()).force, true);
    });

    it('rejects a body without `local`, and duplicate service names', () => {
      assert.equal(issuesOf(() => parseLocalTarget({ apps: {} }, context()))[0]!.path, 'local');
      const svc = { serviceName: 'web', serviceId: 1, imageId: 1, image: 'a' };
      const issues = issuesOf(() =>
        parseLocalTarget(
          {
            local: {
              apps: {
                '1': {
                  name: 'a',
                  commit: 'c',
                  releaseId: 1,
                  services: { '1': svc, '2': { ...svc, serviceId: 2, imageId: 2 } },
                },
              },
            },
          },
          context(),
        ),
      );
      assert.deepEqual(
        issues.map((i) => i.path),
        ['local.apps.1.services.2.serviceName'],
      );
    });
  });

  describe('rejects invalid targets whole, naming every problem', () => {
    const P = SERVICE_PATH;
    const cases: Array<{
      name: string;
      services: Record<string, ServiceInput>;
      release?: Record<string, Record<string, unknown>>;
      path: string;
      reason: RegExp;
    }> = [
      {
        name: 'env var name',
        services: { a: { environment: { 'BAD-NAME': 'x' } } },
        path: `${P}.a.environment.BAD-NAME`,
        reason: /environment variable names/,
      },
      {
        name: 'env value type',
        services: { a: { environment: { N: 1 } } },
        path: `${P}.a.environment.N`,
        reason: /must be strings/,
      },
      {
        name: 'label name',
        services: { a: { labels: { 'has space': 'x' } } },
        path: `${P}.a.labels.has space`,
        reason: /label names/,
      },
      {
        name: 'composition env name',
        services: { a: { composition: { environment: ['1X=y'] } } },
        path: `${P}.a.composition.environment.1X`,
        reason: /environment variable names/,
      },
      {
        name: 'image name',
        services: { a: { image: 'Registry.test/UPPER' } },
        path: `${P}.a.image`,
        reason: /lowercase/,
      },
      {
        name: 'ports',
        services: { a: { composition: { ports: ['80:80', '70000'] } } },
        path: `${P}.a.composition.ports.1`,
        reason: /outside 1-65535/,
      },
      {
        name: 'port range lengths',
        services: { a: { composition: { ports: ['8000-8002:80-81'] } } },
        path: `${P}.a.composition.ports.0`,
        reason: /same length/,
      },
      {
        name: 'port protocol',
        services: { a: { composition: { ports: ['80/sctp'] } } },
        path: `${P}.a.composition.ports.0`,
        reason: /not tcp or udp/,
      },
      {
        name: 'bind mount short',
        services: { a: { composition: { volumes: ['/etc:/host-etc'] } } },
        path: `${P}.a.composition.volumes.0`,
        reason: /bind mounts are not supported/,
      },
      {
        name: 'bind mount relative',
        services: { a: { composition: { volumes: ['./data:/data'] } } },
        path: `${P}.a.composition.volumes.0`,
        reason: /bind mounts are not supported/,
      },
      {
        name: 'bind mount long',
        services: {
          a: { composition: { volumes: [{ type: 'bind', source: '/etc', target: '/x' }] } },
        },
        path: `${P}.a.composition.volumes.0`,
        reason: /bind mounts are not supported/,
      },
      {
        name: 'volume not declared',
        services: { a: { composition: { volumes: ['data:/data'] } } },
        path: `${P}.a.composition.volumes.0`,
        reason: /volume "data" is not declared/,
      },
      {
        name: 'long volume not declared',
        services: {
          a: { composition: { volumes: [{ type: 'volume', source: 'd', target: '/d' }] } },
        },
        path: `${P}.a.composition.volumes.0`,
        reason: /volume "d" is not declared/,
      },
      {
        name: 'network not declared',
        services: { a: { composition: { networks: ['backend'] } } },
        path: `${P}.a.composition.networks.backend`,
        reason: /not declared/,
      },
      {
        name: 'network_mode network not declared',
        services: { a: { composition: { network_mode: 'backend' } } },
        path: `${P}.a.composition.network_mode`,
        reason: /not declared/,
      },
      {
        name: 'network_mode unknown service',
        services: { a: { composition: { network_mode: 'service:ghost' } } },
        path: `${P}.a.composition.network_mode`,
        reason: /"ghost", which is not a service/,
      },
      {
        name: 'networks with host mode',
        services: { a: { composition: { network_mode: 'host', networks: ['default'] } } },
        path: `${P}.a.composition.networks`,
        reason: /cannot join networks/,
      },
      {
        name: 'depends_on unknown',
        services: { a: { composition: { depends_on: ['ghost'] } } },
        path: `${P}.a.composition.depends_on.ghost`,
        reason: /"ghost", which is not a service/,
      },
      {
        name: 'depends_on self',
        services: { a: { composition: { depends_on: ['a'] } } },
        path: `${P}.a.composition.depends_on.a`,
        reason: /itself/,
      },
      {
        name: 'depends_on condition',
        services: {
          a: {},
          b: { composition: { depends_on: { a: { condition: 'service_ready' } } } },
        },
        path: `${P}.b.composition.depends_on.a.condition`,
        reason: /service_started, service_healthy or service_completed_successfully/,
      },
      {
        name: 'dependency cycle',
        services: {
          a: { composition: { depends_on: ['b'] } },
          b: { composition: { depends_on: ['c'] } },
          c: { composition: { depends_on: ['a'] } },
        },
        path: `${P}.a.composition.depends_on`,
        reason: /cycle: a → b → c → a/,
      },
      {
        name: 'cycle through network_mode',
        services: {
          a: { composition: { network_mode: 'service:b' } },
          b: { composition: { depends_on: ['a'] } },
        },
        path: `${P}.a.composition.depends_on`,
        reason: /cycle: a → b → a/,
      },
      {
        name: 'hostname with network_mode service:',
        services: {
          a: {},
          b: { composition: { network_mode: 'service:a', hostname: 'b', ports: ['80'] } },
        },
        path: `${P}.b.composition.hostname`,
        reason: /cannot be combined with network_mode "service:a"/,
      },
      {
        name: 'memory string',
        services: { a: { composition: { mem_limit: '1.5g' } } },
        path: `${P}.a.composition.mem_limit`,
        reason: /not a memory size/,
      },
      {
        name: 'duration',
        services: { a: { composition: { stop_grace_period: '10 seconds' } } },
        path: `${P}.a.composition.stop_grace_period`,
        reason: /not a duration/,
      },
      {
        name: 'healthcheck duration',
        services: { a: { composition: { healthcheck: { test: 'true', interval: 30 } } } },
        path: `${P}.a.composition.healthcheck.interval`,
        reason: /duration string/,
      },
      {
        name: 'healthcheck test',
        services: { a: { composition: { healthcheck: { test: ['curl'] } } } },
        path: `${P}.a.composition.healthcheck.test`,
        reason: /CMD/,
      },
      {
        name: 'privileged type',
        services: { a: { composition: { privileged: 'yes' } } },
        path: `${P}.a.composition.privileged`,
        reason: /true or false/,
      },
      {
        name: 'cpu_shares type',
        services: { a: { composition: { cpu_shares: 1.5 } } },
        path: `${P}.a.composition.cpu_shares`,
        reason: /integer/,
      },
      {
        name: 'cpus',
        services: { a: { composition: { cpus: 0 } } },
        path: `${P}.a.composition.cpus`,
        reason: /more than 0/,
      },
      {
        name: 'command quoting',
        services: { a: { composition: { command: 'echo "unterminated' } } },
        path: `${P}.a.composition.command`,
        reason: /unterminated/,
      },
      {
        name: 'devices',
        services: { a: { composition: { devices: ['ttyUSB0'] } } },
        path: `${P}.a.composition.devices.0`,
        reason: /host\/path/,
      },
      {
        name: 'ulimits',
        services: { a: { composition: { ulimits: { nofile: { soft: 'x', hard: 1 } } } } },
        path: `${P}.a.composition.ulimits.nofile.soft`,
        reason: /integer/,
      },
      {
        name: 'camelCase given twice',
        services: { a: { composition: { network_mode: 'host', networkMode: 'bridge' } } },
        path: `${P}.a.composition.networkMode`,
        reason: /given twice/,
      },
      {
        name: 'camelCase key keeps its spelling in paths',
        services: { a: { composition: { memLimit: 'lots' } } },
        path: `${P}.a.composition.memLimit`,
        reason: /not a memory size/,
      },
      {
        name: 'external volume',
        services: { a: {} },
        release: { volumes: { data: { external: true } } },
        path: `apps.${APP_UUID}.releases.${COMMIT}.volumes.data.external`,
        reason: /external/,
      },
      {
        name: 'network driver type',
        services: { a: {} },
        release: { networks: { n: { driver: 3 } } },
        path: `apps.${APP_UUID}.releases.${COMMIT}.networks.n.driver`,
        reason: /string/,
      },
      {
        name: 'service name',
        services: { '-bad': {} },
        path: `${SERVICE_PATH}.-bad`,
        reason: /invalid key/,
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const issues = issuesOf(() => parseTargetDevice(device(c.services, c.release), context()));
        const match = issues.find((i) => i.path === c.path);
        assert.ok(match, `no issue at ${c.path}; got ${JSON.stringify(issues)}`);
        assert.match(match.reason, c.reason);
      });
    }

    it('contract requirements of an unknown type (docs/protocol.md#release-contracts)', () => {
      const contract = {
        type: 'sw.container',
        requires: [
          { type: 'sw.supervisor', version: '>=16' },
          { or: [{ type: 'hw.device-type', slug: 'raspberrypi4-64' }] },
        ],
      };
      assert.ok(parseTargetDevice(device({ a: { contract } }), context()));
      const bad = { requires: [{ type: 'sw.blob' }] };
      const issues = issuesOf(() => parseTargetDevice(device({ a: { contract: bad } }), context()));
      assert.equal(issues[0]!.path, `${SERVICE_PATH}.a.contract.requires.0.type`);
      assert.match(issues[0]!.reason, /requirement type must be one of/);
    });

    it('lists every problem, not just the first', () => {
      const issues = issuesOf(() =>
        parseTargetDevice(
          device({
            a: { environment: { 'X-1': 'v' }, composition: { ports: ['x'], mem_limit: 'big' } },
            b: { image: '' },
          }),
          context(),
        ),
      );
      assert.deepEqual(
        issues.map((i) => i.path).sort(),
        [
          `${SERVICE_PATH}.a.composition.mem_limit`,
          `${SERVICE_PATH}.a.composition.ports.0`,
          `${SERVICE_PATH}.a.environment.X-1`,
          `${SERVICE_PATH}.b.image`,
        ].sort(),
      );
    });

    it('rejects duplicate container names across apps and duplicate app ids', () => {
      const one = device({ main: { image_id: 5 } }) as { apps: Record<string, unknown> };
      const doc = { ...one, apps: { ...one.apps, otherapp: one.apps[APP_UUID] } };
      const issues = issuesOf(() => parseTargetDevice(doc, context()));
      assert.ok(
        issues.some(
          (i) =>
            i.path === `apps.otherapp.releases.${COMMIT}.services.main` &&
            /container name "main_5_557631_/.test(i.reason),
        ),
      );
      assert.ok(
        issues.some((i) => i.path === 'apps.otherapp.id' && /also used by app/.test(i.reason)),
      );
    });

    it('says what the top level must be', () => {
      assert.match(
        issuesOf(() => parseTarget([], context()))[0]!.reason,
        /object keyed by device uuid/,
      );
      assert.deepEqual(
        issuesOf(() => parseTargetDevice({ name: 'x', apps: {} }, context())).map((i) => i.path),
        ['config'],
      );
    });
  });

  describe('warns and carries on', () => {
    it('drops unsupported compose keys with a warning', () => {
      const { target, warnings } = parseTargetDevice(
        device({
          a: {
            composition: {
              expose: ['80'],
              logging: { driver: 'none' },
              build: '.',
              stdin_open: true,
            },
          },
        }),
        context(),
      );
      assert.ok(target.apps[APP_UUID]!.release!.services['a']);
      for (const key of ['expose', 'logging', 'stdin_open'])
        assert.ok(
          warnings.some((w) => w.startsWith(`${SERVICE_PATH}.a.composition.${key}: unsupported`)),
          key,
        );
      assert.ok(warnings.some((w) => w.includes('composition.build: build is done before deploy')));
    });

    it('falls back to restart: always, and default update strategy, with warnings', () => {
      const { target, warnings } = parseTargetDevice(
        device({
          a: {
            composition: { restart: 'sometimes' },
            labels: {
              'io.balena.update.strategy': 'yolo',
              'io.balena.update.handover-timeout': 'soon',
            },
          },
        }),
        context(),
      );
      const a = target.apps[APP_UUID]!.release!.services['a']!;
      assert.equal(a.createSpec.HostConfig.RestartPolicy.Name, 'always');
      assert.equal(a.updateStrategy, 'download-then-kill');
      assert.equal(a.handoverTimeoutMs, 60000);
      assert.equal(warnings.length, 3);
    });

    it('uses the first of several releases, with a warning', () => {
      const doc = device({ a: {} }) as {
        apps: Record<string, { releases: Record<string, unknown> }>;
      };
      doc.apps[APP_UUID]!.releases['second'] = { id: 2, services: {} };
      const { target, warnings } = parseTargetDevice(doc, context());
      assert.equal(target.apps[APP_UUID]!.release!.commit, COMMIT);
      assert.match(warnings[0]!, /2 releases given/);
    });

    it('ignores supervisor0 in compose networks (the feature label decides), with a warning', () => {
      const { target, warnings } = parseTargetDevice(
        device({ a: { composition: { networks: ['supervisor0', 'default'] } } }),
        context(),
      );
      const a = target.apps[APP_UUID]!.release!.services['a']!;
      assert.deepEqual(a.networks, ['default']);
      assert.equal(a.createSpec.NetworkingConfig!.EndpointsConfig['supervisor0'], undefined);
      assert.match(warnings[0]!, /supervisor0: joined only through/);
    });

    it('drops environment entries without a value (compose "from the host") with a warning', () => {
      const { target, warnings } = parseTargetDevice(
        device({ a: { composition: { environment: ['FROM_HOST', 'SET=1'] } } }),
        context(),
      );
      const env = target.apps[APP_UUID]!.release!.services['a']!.createSpec.Env;
      assert.ok(env.includes('SET=1'));
      assert.ok(!env.some((e) => e.startsWith('FROM_HOST')));
      assert.match(warnings[0]!, /FROM_HOST: has no value/);
    });
  });
});
