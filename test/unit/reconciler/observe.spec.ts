import assert from 'node:assert/strict';
import type { ContainerInfo, NetworkInfo, VolumeInfo } from '../../../src/engine/port.js';
import {
  balenaLabels,
  toContainerState,
  toNetworkState,
  toVolumeState,
} from '../../../src/reconciler/observe.js';

function info(name: string, labels: Record<string, string>): ContainerInfo {
  return {
    id: 'c0ffee',
    name,
    imageId: 'sha256:abc',
    image: 'registry/api:1',
    labels,
    env: [],
    state: 'running',
    health: 'none',
    exitCode: undefined,
    error: undefined,
    createdAt: '2026-01-01T00:00:00Z',
    startedAt: '2026-01-01T00:00:01Z',
    finishedAt: undefined,
    restartPolicy: 'always',
    networks: { app_default: { networkId: 'n1', aliases: ['api'], ipAddress: '10.0.0.2' } },
    mounts: [
      {
        type: 'volume',
        name: '7_data',
        source: '/var/lib/docker/volumes/7_data/_data',
        destination: '/data',
      },
      {
        type: 'bind',
        name: undefined,
        source: '/tmp/balena-supervisor/services/7/api',
        destination: '/tmp/balena',
      },
    ],
  };
}

const identity = {
  'io.balena.supervised': 'true',
  'io.balena.app-id': '7',
  'io.balena.app-uuid': 'app',
  'io.balena.service-id': '3',
  'io.balena.service-name': 'api',
  'io.bosun.config-hash': 'h1',
};

describe('observe: parsing engine objects', () => {
  it('reads identity from labels and image/release/commit from the container name', () => {
    const c = toContainerState(info('api_11_22_deadbeef', identity), balenaLabels(identity));
    assert.ok(c);
    assert.deepEqual(
      [c.appId, c.appUuid, c.serviceId, c.serviceName, c.imageId, c.releaseId, c.commit],
      [7, 'app', 3, 'api', 11, 22, 'deadbeef'],
    );
    assert.equal(c.configHash, 'h1');
    assert.deepEqual(c.networks, ['app_default']);
    assert.deepEqual(c.volumes, ['7_data'], 'named volumes only, not binds');
    assert.equal(c.handoverOld, false);
  });

  it('recognises the outgoing container of a hand-over by its old_ prefix', () => {
    const c = toContainerState(info('old_api_11_22_deadbeef', identity), balenaLabels(identity));
    assert.equal(c?.handoverOld, true);
    assert.equal(c?.commit, 'deadbeef');
  });

  it('reads legacy io.resin.* labels as io.balena.*, with explicit io.balena.* winning', () => {
    const labels = balenaLabels({
      'io.resin.app-id': '5',
      'io.resin.service-name': 'old',
      'io.balena.service-name': 'new',
    });
    assert.equal(labels['io.balena.app-id'], '5');
    assert.equal(labels['io.balena.service-name'], 'new');
  });

  it('refuses containers without a usable identity instead of guessing', () => {
    const { ['io.balena.app-id']: _gone, ...noAppId } = identity;
    assert.equal(toContainerState(info('api_11_22_x', noAppId), noAppId), undefined);
    assert.equal(toContainerState(info('not-a-release-name', identity), identity), undefined);
    const bad = { ...identity, 'io.balena.service-id': 'three' };
    assert.equal(toContainerState(info('api_11_22_x', bad), bad), undefined);
  });

  it('networks: <appUuid>_<name> or legacy <appId>_<name>, supervised only', () => {
    const net = (name: string, labels: Record<string, string>): NetworkInfo => ({
      id: 'n',
      name,
      driver: 'bridge',
      labels,
      internal: false,
      enableIPv6: false,
      configOnly: false,
      options: {},
      ipam: { driver: 'default', config: [] },
      containers: [],
    });
    assert.deepEqual(
      toNetworkState(
        net('abc_default', { 'io.balena.supervised': 'true', 'io.balena.app-id': '7' }),
      ).map((n) => [n.appUuid, n.appId]),
      [['abc', 7]],
    );
    assert.deepEqual(
      toNetworkState(
        net('12_default', { 'io.resin.supervised': 'true', 'io.balena.app-uuid': 'u' }),
      ).map((n) => [n.appUuid, n.appId]),
      [['u', 12]],
    );
    assert.deepEqual(toNetworkState(net('bridge', {})), []);
  });

  it('volumes: only <appId>_<name>', () => {
    const vol = (name: string): VolumeInfo => ({
      name,
      driver: 'local',
      labels: { 'io.balena.app-uuid': 'u' },
      mountpoint: '',
      options: {},
    });
    assert.deepEqual(
      toVolumeState(vol('7_data')).map((v) => [v.appId, v.appUuid]),
      [[7, 'u']],
    );
    assert.deepEqual(toVolumeState(vol('3f2a9c0d1e')), []);
    assert.deepEqual(toVolumeState(vol('extra-firmware')), []);
  });
});
