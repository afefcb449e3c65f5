/**
 * Adoption against the real engine: a container created from a normalised create spec, inspected back,
 * must hash to the target's config hash, so containers without our hash label are adopted, not recreated.
 * Set CAPTURE_INSPECT=<file> to save the inspect (and its image config) as a unit-test fixture.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import type Dockerode from 'dockerode';
import {
  configHashFromInspect,
  createSpecFromInspect,
  networkHashFromInspect,
  volumeHashFromInspect,
} from '../../../src/domain/adoption.js';
import { comparableServiceConfig, networkConfigHash } from '../../../src/domain/config-hash.js';
import type { ContainerInspect, ImageConfigInspect } from '../../../src/domain/adoption.js';
import type { ContainerCreateSpec } from '../../../src/domain/container-spec.js';
import type { ReleaseTarget, ServiceTarget } from '../../../src/domain/model.js';
import { parseTargetDevice } from '../../../src/domain/target/parse-target.js';
import {
  TEST_LABEL,
  cleanupByLabel,
  requireDocker,
  testDocker,
  uniquePrefix,
} from '../../support/docker.js';
import { TEST_IMAGES } from '../../support/images.js';
import { context } from '../../unit/domain/helpers.js';

function targetFor(prefix: string, appId: number, subnet: string, gateway: string): ReleaseTarget {
  const owner = { [TEST_LABEL]: prefix };
  const doc = {
    name: 'adoption',
    config: {},
    apps: {
      [prefix]: {
        id: appId,
        name: 'adoption',
        releases: {
          c0ffee: {
            id: 3,
            services: {
              web: {
                id: 1,
                image_id: 11,
                image: TEST_IMAGES.busybox,
                environment: { GREETING: 'hello' },
                labels: { ...owner, 'io.balena.update.strategy': 'hand-over' },
                composition: {
                  command: 'sleep 3600',
                  ports: ['127.0.0.1::80', '5353/udp'],
                  volumes: [
                    'data:/data',
                    '/cache',
                    { type: 'tmpfs', target: '/run/t', tmpfs: { size: '1m' } },
                  ],
                  networks: { backend: { aliases: ['web.internal'] }, default: null },
                  healthcheck: { test: ['CMD', 'true'], interval: '30s', retries: 2 },
                  cap_add: ['NET_ADMIN'],
                  cap_drop: ['MKNOD'],
                  mem_limit: '64m',
                  ulimits: { nofile: { soft: 1024, hard: 2048 } },
                  extra_hosts: ['db:10.0.0.2'],
                  dns_search: ['lan'],
                  tmpfs: ['/tmp/x'],
                  working_dir: '/data',
                  stop_grace_period: '5s',
                  restart: 'unless-stopped',
                  tty: false,
                },
              },
              plain: {
                id: 2,
                image_id: 12,
                image: TEST_IMAGES.busybox,
                environment: {},
                labels: owner,
                composition: { command: ['sleep', '3600'] },
              },
              hosted: {
                id: 3,
                image_id: 13,
                image: TEST_IMAGES.busybox,
                environment: {},
                labels: owner,
                composition: { command: ['sleep', '3600'], network_mode: 'host', privileged: true },
              },
            },
            networks: {
              backend: { labels: owner },
              // Custom IPAM: its config is part of the hash; the engine-chosen subnets of the others are not.
              fixed: {
                labels: owner,
                driver_opts: { 'com.docker.network.driver.mtu': '1400' },
                ipam: { config: [{ subnet, gateway }] },
              },
            },
            volumes: { data: { labels: owner } },
          },
        },
      },
    },
  };
  return parseTargetDevice(doc, context({ lockRoot: `/tmp/${prefix}` })).target.apps[prefix]!
    .release!;
}

/** Creates the container the way the executor does: main endpoint at create, the others connected after. */
async function create(docker: Dockerode, service: ServiceTarget): Promise<Dockerode.Container> {
  const spec: ContainerCreateSpec = service.createSpec;
  const endpoints = spec.NetworkingConfig?.EndpointsConfig ?? {};
  const main = spec.HostConfig.NetworkMode;
  const { name, NetworkingConfig: _all, ...body } = spec;
  const container = await docker.createContainer({
    ...body,
    name,
    ...(endpoints[main] === undefined
      ? {}
      : { NetworkingConfig: { EndpointsConfig: { [main]: endpoints[main] } } }),
  } as Dockerode.ContainerCreateOptions);
  for (const [network, endpoint] of Object.entries(endpoints)) {
    if (network !== main)
      await docker
        .getNetwork(network)
        .connect({ Container: container.id, EndpointConfig: endpoint });
  }
  return container;
}

describe('domain adoption: config hash derived from a real engine inspect', function () {
  this.timeout(120_000);
  const docker = testDocker();
  const prefix = uniquePrefix('adopt');
  const appId = 900_000 + Math.floor(Math.random() * 99_999);
  const octet = 1 + Math.floor(Math.random() * 250);
  const subnet = `10.213.${octet}.0/24`;
  const gateway = `10.213.${octet}.1`;

  before(async () => {
    await requireDocker();
  });

  after(async () => {
    await cleanupByLabel(prefix, docker);
    rmSync(`/tmp/${prefix}`, { recursive: true, force: true });
  });

  it('matches the target hash for bridged, multi-network and host-networked services', async () => {
    const release = targetFor(prefix, appId, subnet, gateway);
    for (const network of Object.values(release.networks)) {
      await docker.createNetwork({
        ...network.createSpec,
        Labels: { ...network.createSpec.Labels, [TEST_LABEL]: prefix },
      });
    }
    for (const volume of Object.values(release.volumes))
      await docker.createVolume(volume.createSpec);
    const image = (await docker.getImage(TEST_IMAGES.busybox).inspect())
      .Config as unknown as ImageConfigInspect;

    for (const service of Object.values(release.services)) {
      const container = await create(docker, service);
      const inspect = (await container.inspect()) as unknown as ContainerInspect;
      if (process.env['CAPTURE_INSPECT'] && service.serviceName === 'web') {
        writeFileSync(
          process.env['CAPTURE_INSPECT'],
          `${JSON.stringify({ inspect, image, configHash: service.configHash }, null, 2)}\n`,
        );
      }
      // Compare the readable forms first: a mismatch then says which field differs.
      assert.deepEqual(
        comparableServiceConfig(createSpecFromInspect(inspect, image)),
        comparableServiceConfig(service.createSpec),
        `service ${service.serviceName}`,
      );
      assert.equal(
        configHashFromInspect(inspect, image),
        service.configHash,
        `service ${service.serviceName}`,
      );
    }
  });
});

describe('domain adoption: network and volume hashes from a real engine inspect', function () {
  this.timeout(120_000);
  const docker = testDocker();
  const prefix = uniquePrefix('adoptnet');
  const octet = 1 + Math.floor(Math.random() * 250);

  before(async () => {
    await requireDocker();
  });

  after(async () => {
    await cleanupByLabel(prefix, docker);
  });

  it('matches the target hashes of networks (engine-chosen and custom IPAM, config-only) and volumes', async () => {
    const release = targetFor(prefix, 900_000 + octet, `10.214.${octet}.0/24`, `10.214.${octet}.1`);
    const hostOnly = parseTargetDevice(
      {
        name: 'x',
        config: {},
        apps: { [prefix]: { id: 1, name: 'x', releases: { c: { id: 1, services: {} } } } },
      },
      context(),
    ).target.apps[prefix]!.release!.networks['default']!;
    for (const network of [
      ...Object.values(release.networks),
      { ...hostOnly, createSpec: { ...hostOnly.createSpec, Name: `${prefix}_configonly` } },
    ]) {
      const spec = {
        ...network.createSpec,
        Labels: { ...network.createSpec.Labels, [TEST_LABEL]: prefix },
      };
      const created = await docker.createNetwork(spec);
      const info = await created.inspect();
      const observed = networkHashFromInspect({
        driver: info.Driver,
        labels: info.Labels ?? {},
        internal: info.Internal,
        enableIPv6: info.EnableIPv6,
        configOnly: info.ConfigOnly,
        options: info.Options ?? {},
        ipam: {
          driver: info.IPAM?.Driver ?? '',
          config: (info.IPAM?.Config ?? []).map((c) => ({
            ...(c.Subnet === undefined ? {} : { subnet: c.Subnet }),
            ...(c.Gateway === undefined ? {} : { gateway: c.Gateway }),
            ...(c.IPRange === undefined ? {} : { ipRange: c.IPRange }),
          })),
        },
      });
      // The test label is not part of the target: compare against the hash of what was really sent.
      assert.equal(observed, networkConfigHash(spec), `network ${network.name}`);
    }
    for (const volume of Object.values(release.volumes)) {
      await docker.createVolume(volume.createSpec);
      const info = await docker.getVolume(volume.engineName).inspect();
      assert.equal(
        volumeHashFromInspect({
          driver: info.Driver,
          labels: info.Labels ?? {},
          options: info.Options ?? {},
        }),
        volume.configHash,
        `volume ${volume.name}`,
      );
    }
  });
});
