/**
 * Issue 8: a bind mount smuggled through a named volume's driver_opts. balena-supervisor hands
 * driver_opts to the engine unchecked, so `type: none, o: bind, device: /etc` mounts the host's /etc into
 * the app even though compose bind mounts are refused; bosun refuses it (release-resources.ts says why).
 */
import assert from 'node:assert/strict';
import { parseTargetDevice } from '../../../src/domain/target/index.js';
import { APP_UUID, COMMIT, context, device, issuesOf } from './helpers.js';

const VOLUMES = `apps.${APP_UUID}.releases.${COMMIT}.volumes`;

function withVolume(definition: Record<string, unknown> | null): unknown {
  return device(
    { main: { composition: { volumes: ['data:/data'] } } },
    { volumes: { data: definition } },
  );
}

describe('domain: named volumes cannot mount the host', () => {
  const refused: Array<{ name: string; opts: Record<string, string>; path: string }> = [
    {
      name: 'the classic smuggle: type none, o bind, device /etc',
      opts: { type: 'none', o: 'bind', device: '/etc' },
      path: 'driver_opts.o',
    },
    {
      name: 'rbind among other flags',
      opts: { type: 'none', o: 'ro,rbind', device: '/' },
      path: 'driver_opts.o',
    },
    {
      name: 'a host block device',
      opts: { type: 'ext4', device: '/dev/mmcblk0p2' },
      path: 'driver_opts.device',
    },
  ];
  for (const c of refused) {
    it(`refuses ${c.name}, naming the option`, () => {
      const issues = issuesOf(() =>
        parseTargetDevice(withVolume({ driver_opts: c.opts }), context()),
      );
      const issue = issues.find((i) => i.path === `${VOLUMES}.data.${c.path}`);
      assert.ok(issue, JSON.stringify(issues));
      assert.match(issue.reason, /would mount a host path.*bind mounts are not supported/);
    });
  }

  const accepted: Array<{ name: string; definition: Record<string, unknown> | null }> = [
    { name: 'a plain named volume', definition: null },
    {
      name: 'a tmpfs volume',
      definition: { driver_opts: { type: 'tmpfs', device: 'tmpfs', o: 'size=64m' } },
    },
    {
      name: 'an NFS volume',
      definition: { driver_opts: { type: 'nfs', o: 'addr=10.0.0.2,rw', device: ':/export' } },
    },
    { name: 'a CIFS share', definition: { driver_opts: { type: 'cifs', device: '//nas/share' } } },
    {
      name: "another driver's options (its own business)",
      definition: { driver: 'rclone', driver_opts: { o: 'bind' } },
    },
  ];
  for (const c of accepted) {
    it(`accepts ${c.name}`, () => {
      const parsed = parseTargetDevice(withVolume(c.definition), context());
      const volumes = parsed.target.apps[APP_UUID]!.release!.volumes;
      assert.deepEqual(Object.keys(volumes), ['data'], JSON.stringify(volumes));
    });
  }
});
