import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configHashFromInspect, createSpecFromInspect } from '../../../src/domain/adoption.js';
import type { ContainerInspect, ImageConfigInspect } from '../../../src/domain/adoption.js';
import { comparableServiceConfig } from '../../../src/domain/config-hash.js';
import type { ContainerCreateSpec } from '../../../src/domain/container-spec.js';

interface Captured {
  inspect: ContainerInspect;
  image: ImageConfigInspect;
  configHash: string;
}

const captured = JSON.parse(
  readFileSync(
    fileURLToPath(new URL('../../fixtures/engine/inspect-web-adoption.json', import.meta.url)),
    'utf8',
  ),
) as Captured;

const image: ImageConfigInspect = {
  Env: ['PATH=/bin'],
  Cmd: ['sh'],
  Labels: { 'io.bosun.test.variant': '1' },
  ExposedPorts: { '9000/tcp': {} },
};

function inspectOf(
  spec: Partial<ContainerInspect['Config']>,
  hostConfig: Partial<ContainerInspect['HostConfig']> = {},
  networks: NonNullable<NonNullable<ContainerInspect['NetworkSettings']>['Networks']> = {},
): ContainerInspect {
  return {
    Id: 'abcdef123456789',
    Name: '/web_1_2_c',
    Config: {
      Image: 'img',
      Env: ['PATH=/bin', 'A=1'],
      Labels: { 'io.bosun.test.variant': '1', own: 'x' },
      Cmd: ['sh'],
      Tty: true,
      Hostname: 'abcdef123456',
      ...spec,
    },
    HostConfig: {
      NetworkMode: 'app_default',
      RestartPolicy: { Name: 'always', MaximumRetryCount: 0 },
      ...hostConfig,
    },
    NetworkSettings: { Networks: networks },
  };
}

describe('domain: adoption (config hash from an engine inspect)', () => {
  it('reproduces the target hash from a real engine inspect (captured by test/integration/domain/adoption.spec.ts)', () => {
    assert.equal(
      configHashFromInspect(captured.inspect, captured.image),
      captured.configHash,
      'if the hash algorithm changed on purpose, recapture with CAPTURE_INSPECT=test/fixtures/engine/inspect-web-adoption.json npx mocha test/integration/domain/adoption.spec.ts',
    );
  });

  it('leaves out what the image contributed and what the engine adds', () => {
    const spec = createSpecFromInspect(
      inspectOf(
        { ExposedPorts: { '9000/tcp': {}, '80/tcp': {} } },
        {
          SecurityOpt: ['label=disable', 'no-new-privileges'],
          PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] },
        },
        { app_default: { Aliases: ['web', 'abcdef123456'] } },
      ),
      image,
    );
    assert.deepEqual(spec.Env, ['A=1']);
    assert.deepEqual(spec.Labels, { own: 'x' });
    assert.equal(spec.Cmd, undefined, 'the image command');
    assert.equal(spec.Hostname, undefined, 'the engine-chosen hostname (short id)');
    assert.deepEqual(spec.ExposedPorts, { '80/tcp': {} });
    assert.deepEqual(spec.HostConfig.SecurityOpt, ['no-new-privileges']);
    assert.deepEqual(spec.NetworkingConfig, {
      EndpointsConfig: { app_default: { Aliases: ['web'] } },
    });
  });

  it('ignores the endpoint of a built-in network mode and maps container:<id> back to service:<name>', () => {
    const host = createSpecFromInspect(
      inspectOf({}, { NetworkMode: 'host' }, { host: { Aliases: null } }),
      image,
    );
    assert.equal(host.NetworkingConfig, undefined);
    const shared = createSpecFromInspect(
      inspectOf({}, { NetworkMode: 'container:ffff' }),
      image,
      (id) => (id === 'ffff' ? 'db' : undefined),
    );
    assert.equal(shared.HostConfig.NetworkMode, 'service:db');
  });

  it('a target that repeats an image value explicitly does not match (one recreate, the safe direction)', () => {
    const target: ContainerCreateSpec = {
      name: 'x',
      Image: 'img',
      Env: ['A=1', 'PATH=/bin'],
      Labels: { own: 'x' },
      Tty: true,
      HostConfig: {
        NetworkMode: 'app_default',
        RestartPolicy: { Name: 'always', MaximumRetryCount: 0 },
      },
    };
    const adopted = createSpecFromInspect(inspectOf({}), image);
    assert.notDeepEqual(
      comparableServiceConfig(adopted)['Env'],
      comparableServiceConfig(target)['Env'],
    );
  });

  it('reads what balena-supervisor v19.0.5 writes as what it means (kill-me path, Healthcheck NONE, SIGTERM)', () => {
    const env = ['PATH=/bin', 'RESIN_SERVICE_KILL_ME_PATH=/tmp/balena/handover-complete', 'A=1'];
    const balena = createSpecFromInspect(
      inspectOf({ Env: env, Healthcheck: { Test: ['NONE'] }, StopSignal: 'SIGTERM' }),
      image,
    );
    const bosun = createSpecFromInspect(
      inspectOf({
        Env: [...env, 'BALENA_SERVICE_KILL_ME_PATH=/tmp/balena/handover-complete'],
      }),
      image,
    );
    assert.equal(balena.Healthcheck, undefined, 'NONE without an image healthcheck is none');
    assert.equal(balena.StopSignal, undefined, 'SIGTERM is the default');
    assert.deepEqual(comparableServiceConfig(balena), comparableServiceConfig(bosun));

    // Where the image says otherwise, the same values are real choices and stay.
    const imageWithBoth: ImageConfigInspect = {
      ...image,
      Healthcheck: { Test: ['CMD', 'true'] },
      StopSignal: 'SIGINT',
    };
    const overriding = createSpecFromInspect(
      inspectOf({ Healthcheck: { Test: ['NONE'] }, StopSignal: 'SIGTERM' }),
      imageWithBoth,
    );
    assert.deepEqual(overriding.Healthcheck, { Test: ['NONE'] });
    assert.equal(overriding.StopSignal, 'SIGTERM');
    // A value the user chose is not the agent's own variable: nothing is read into it.
    const custom = createSpecFromInspect(
      inspectOf({ Env: ['RESIN_SERVICE_KILL_ME_PATH=/elsewhere'] }),
      image,
    );
    assert.deepEqual(custom.Env, ['RESIN_SERVICE_KILL_ME_PATH=/elsewhere']);
  });
});
