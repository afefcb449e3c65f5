/**
 * Issue 8: a container controls what sits at `updates.lock` in its lock directory. On the real engine,
 * an app's container makes it a symlink to /dev/zero, a FIFO or a directory; the agent's round must
 * still complete, the other app must update, the hostile app must show as locked, nothing may be read
 * whole into memory, and a forced update must remove the entry without following it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { TargetState } from '../../src/domain/model.js';
import { ownedContainers, requireDocker, testDocker } from '../support/docker.js';
import { requireRegistries } from '../support/registry.js';
import { dockerRig, dockerTarget, type DockerRig } from './support/reconciler-docker.js';

/** Two apps on one rig: `hostile` (service api) and `bystander` (service web). */
function twoApps(rig: DockerRig, other: DockerRig, commit: string, version: string): TargetState {
  const a = dockerTarget(rig, commit, [{ name: 'api', env: { V: version } }]);
  const b = dockerTarget(other, commit, [{ name: 'web', env: { V: version } }]);
  return { ...a, apps: { ...a.apps, ...b.apps } };
}

async function containersOf(rig: DockerRig): Promise<Array<{ id: string; service: string }>> {
  return (await ownedContainers(rig.prefix)).map(({ id, service }) => ({ id, service }));
}

async function envOf(id: string): Promise<string[]> {
  return (await testDocker().getContainer(id).inspect()).Config.Env;
}

async function execIn(id: string, cmd: string): Promise<void> {
  const exec = await testDocker()
    .getContainer(id)
    .exec({ Cmd: ['sh', '-c', cmd], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  await new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.resume();
  });
  const { ExitCode } = await exec.inspect();
  assert.equal(ExitCode, 0, `${cmd} failed in the container`);
}

describe('Hostile update-lock entries made by a real container', function () {
  this.timeout(180_000);
  let rig: DockerRig | undefined;

  before(async () => {
    await requireDocker();
    await requireRegistries();
  });
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  const attacks = [
    { kind: 'symlink to /dev/zero', cmd: 'ln -s /dev/zero /tmp/balena/updates.lock' },
    { kind: 'FIFO', cmd: 'mkfifo /tmp/balena/updates.lock' },
    { kind: 'directory', cmd: 'mkdir /tmp/balena/updates.lock' },
  ];

  for (const attack of attacks) {
    it(`${attack.kind}: the round completes, the other app updates, the app shows locked; force removes it`, async () => {
      rig = await dockerRig('hostile-lock');
      const bystander = { ...rig, uuid: randomBytes(16).toString('hex'), appId: rig.appId + 1 };
      rig.reconciler.start(twoApps(rig, bystander, 'c1', '1'));
      assert.equal((await rig.reconciler.whenSettled()).phase, 'converged');
      const before = await containersOf(rig);
      const api = before.find((c) => c.service === 'api')!;
      const web = before.find((c) => c.service === 'web')!;

      await execIn(api.id, attack.cmd);
      const rssBefore = process.memoryUsage().rss;

      rig.reconciler.setTarget(twoApps(rig, bystander, 'c2', '2'));
      const status = await rig.reconciler.whenSettled();
      assert.equal(status.phase, 'blocked', status.lastError);
      assert.equal(status.apps[rig.uuid]?.services['api']?.waitingFor?.kind, 'locked');
      const during = await containersOf(rig);
      assert.ok(
        during.some((c) => c.id === api.id),
        'the locked app keeps its container',
      );
      const newWeb = during.find((c) => c.service === 'web' && c.id !== web.id);
      assert.ok(newWeb, 'the other app was updated');
      assert.ok((await envOf(newWeb.id)).includes('V=2'));
      assert.ok(
        process.memoryUsage().rss - rssBefore < 100 * 1024 * 1024,
        `lock file not read whole: rss grew ${process.memoryUsage().rss - rssBefore} bytes`,
      );

      rig.reconciler.setTarget(twoApps(rig, bystander, 'c3', '3'), { force: true });
      const forced = await rig.reconciler.whenSettled({ afterRound: status.rounds });
      assert.equal(forced.phase, 'converged', forced.lastError);
      const newApi = (await containersOf(rig)).find((c) => c.service === 'api');
      assert.ok(newApi && newApi.id !== api.id, 'forced through the hostile lock');
      assert.ok((await envOf(newApi.id)).includes('V=3'));
      const lock = join(rig.lockRoot, 'services', String(rig.appId), 'api', 'updates.lock');
      // The agent's lock was taken for the update and released after it: the entry is gone.
      await assert.rejects(() => lstat(lock), /ENOENT/);
      assert.ok((await lstat('/dev/zero')).isCharacterDevice(), 'the link target is untouched');
    });
  }
});
