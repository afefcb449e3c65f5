/**
 * The reconciler against the real Docker engine and the local registry's test image, checked through
 * the engine only: a release comes up from nothing, an env change recreates one container, hand-over
 * starts the new container before stopping the old one, locks hold an update until released, and a
 * removed service loses its container but not its volume.
 */
import assert from 'node:assert/strict';
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineEvent } from '../../src/engine/port.js';
import { ownedContainers, requireDocker, TEST_LABEL, testDocker } from '../support/docker.js';
import { requireRegistries } from '../support/registry.js';
import { dockerRig, dockerTarget, type DockerRig } from './support/reconciler-docker.js';

async function ours(
  rig: DockerRig,
): Promise<Array<{ id: string; name: string; service: string; state: string }>> {
  return (await ownedContainers(rig.prefix))
    .map(({ id, name, service, state }) => ({ id, name, service, state }))
    .sort((a, b) => a.service.localeCompare(b.service) || a.name.localeCompare(b.name));
}

describe('Reconciler on the real engine', function () {
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

  it('brings up five services with a shared network and a named volume, then updates one env var by recreating only that container', async () => {
    rig = await dockerRig('rec-five');
    const names = ['one', 'two', 'three', 'four', 'five'];
    const t1 = dockerTarget(
      rig,
      'c1',
      names.map((name) => ({ name, data: name === 'one', env: { N: name } })),
    );
    rig.reconciler.start(t1);
    const status = await rig.reconciler.whenSettled();
    assert.equal(status.phase, 'converged', status.lastError);
    const before = await ours(rig);
    assert.deepEqual(
      before.map((c) => c.state),
      ['running', 'running', 'running', 'running', 'running'],
    );
    const docker = testDocker();
    const net = await docker.getNetwork(`${rig.uuid}_default`).inspect();
    assert.equal(Object.keys(net.Containers ?? {}).length, 5, 'all five on the shared network');
    await docker.getVolume(`${rig.appId}_data`).inspect();
    assert.equal(await rig.store.commits.get(rig.uuid), 'c1');

    const t2 = dockerTarget(
      rig,
      'c1',
      names.map((name) => ({
        name,
        data: name === 'one',
        env: { N: name === 'three' ? 'changed' : name },
      })),
    );
    rig.reconciler.setTarget(t2);
    assert.equal((await rig.reconciler.whenSettled()).phase, 'converged');
    const after = await ours(rig);
    for (const c of after) {
      const old = before.find((b) => b.service === c.service);
      if (c.service === 'three') assert.notEqual(c.id, old?.id, 'three recreated');
      else assert.equal(c.id, old?.id, `${c.service} kept its container`);
      assert.equal(c.state, 'running');
    }
    const env = (await docker.getContainer(after.find((c) => c.service === 'three')!.id).inspect())
      .Config.Env;
    assert.ok(env.includes('N=changed'));
  });

  it('hand-over: the new container runs before the old one is stopped', async () => {
    rig = await dockerRig('rec-handover');
    const events: Array<{ action: string; name: string }> = [];
    const sub = rig.engine.events().subscribe((e: EngineEvent) => {
      if (e.type === 'container' && e.labels[TEST_LABEL] === rig?.prefix)
        events.push({ action: e.action, name: e.name ?? '' });
    });
    try {
      const signal = 'touch /tmp/balena/handover-complete';
      rig.reconciler.start(
        dockerTarget(rig, 'c1', [{ name: 'web', strategy: 'hand-over', init: signal }], 1),
      );
      assert.equal((await rig.reconciler.whenSettled()).phase, 'converged');
      const [old] = await ours(rig);
      events.length = 0;
      rig.reconciler.setTarget(
        dockerTarget(
          rig,
          'c2',
          [{ name: 'web', strategy: 'hand-over', init: signal, env: { V: '2' } }],
          2,
        ),
      );
      assert.equal((await rig.reconciler.whenSettled()).phase, 'converged');
      const now = await ours(rig);
      assert.equal(now.length, 1);
      assert.notEqual(now[0]?.id, old?.id);
      const newStart = events.findIndex((e) => e.action === 'start' && e.name.endsWith('_c2'));
      const oldStop = events.findIndex(
        (e) =>
          (e.action === 'kill' || e.action === 'stop' || e.action === 'die') &&
          !e.name.endsWith('_c2'),
      );
      assert.ok(newStart >= 0 && oldStop >= 0, JSON.stringify(events));
      assert.ok(newStart < oldStop, `new started before old stopped: ${JSON.stringify(events)}`);
    } finally {
      sub.unsubscribe();
    }
  });

  it('download-then-kill stops the old container before starting the new one', async () => {
    rig = await dockerRig('rec-dtk');
    const events: Array<{ action: string; name: string }> = [];
    const sub = rig.engine.events().subscribe((e: EngineEvent) => {
      if (e.type === 'container' && e.labels[TEST_LABEL] === rig?.prefix)
        events.push({ action: e.action, name: e.name ?? '' });
    });
    try {
      rig.reconciler.start(dockerTarget(rig, 'c1', [{ name: 'api' }], 1));
      assert.equal((await rig.reconciler.whenSettled()).phase, 'converged');
      events.length = 0;
      rig.reconciler.setTarget(dockerTarget(rig, 'c2', [{ name: 'api', env: { V: '2' } }], 2));
      assert.equal((await rig.reconciler.whenSettled()).phase, 'converged');
      const oldDie = events.findIndex((e) => e.action === 'die' && e.name.endsWith('_c1'));
      const newStart = events.findIndex((e) => e.action === 'start' && e.name.endsWith('_c2'));
      assert.ok(oldDie >= 0 && newStart > oldDie, JSON.stringify(events));
    } finally {
      sub.unsubscribe();
    }
  });

  it('a locked app is not updated until the lock is released; force goes through at once', async () => {
    rig = await dockerRig('rec-lock');
    rig.reconciler.start(dockerTarget(rig, 'c1', [{ name: 'api' }], 1));
    assert.equal((await rig.reconciler.whenSettled()).phase, 'converged');
    const lockFile = join(rig.lockRoot, 'services', String(rig.appId), 'api', 'updates.lock');
    // As the app would: through its bind mount, from inside the container.
    const [c1] = await ours(rig);
    const exec = await testDocker()
      .getContainer(c1!.id)
      .exec({ Cmd: ['touch', '/tmp/balena/updates.lock'] });
    await exec.start({ hijack: true, stdin: false });
    for (let i = 0; i < 50 && (await rig.locks.list()).length === 0; i++)
      await new Promise((r) => setTimeout(r, 50));

    rig.reconciler.setTarget(dockerTarget(rig, 'c2', [{ name: 'api', env: { V: '2' } }], 2));
    const locked = await rig.reconciler.whenSettled();
    assert.equal(locked.phase, 'blocked');
    assert.equal(locked.apps[rig.uuid]?.services['api']?.waitingFor?.kind, 'locked');
    assert.equal((await ours(rig))[0]?.id, c1!.id, 'not updated while locked');

    await unlink(lockFile);
    assert.equal(
      (await rig.reconciler.whenSettled({ afterRound: locked.rounds })).phase,
      'converged',
    );
    const [c2] = await ours(rig);
    assert.ok(c2?.name.endsWith('_c2'));

    await writeFile(lockFile, '');
    rig.reconciler.setTarget(dockerTarget(rig, 'c3', [{ name: 'api', env: { V: '3' } }], 3), {
      force: true,
    });
    assert.equal((await rig.reconciler.whenSettled()).phase, 'converged');
    assert.ok((await ours(rig))[0]?.name.endsWith('_c3'), 'forced through the lock');
  });

  it('removing a service removes its container and keeps its named volume and data', async () => {
    rig = await dockerRig('rec-remove');
    rig.reconciler.start(
      dockerTarget(rig, 'c1', [
        { name: 'keep' },
        { name: 'gone', data: true, init: 'echo precious > /data/file' },
      ]),
    );
    assert.equal((await rig.reconciler.whenSettled()).phase, 'converged');
    rig.reconciler.setTarget(dockerTarget(rig, 'c2', [{ name: 'keep' }], 2));
    assert.equal((await rig.reconciler.whenSettled()).phase, 'converged');
    assert.deepEqual(
      (await ours(rig)).map((c) => c.service),
      ['keep'],
    );
    const volume = await testDocker().getVolume(`${rig.appId}_data`).inspect();
    assert.equal(volume.Name, `${rig.appId}_data`);
    rig.reconciler.setTarget(
      dockerTarget(
        rig,
        'c3',
        [{ name: 'keep' }, { name: 'gone', data: true, init: 'cat /data/file > /tmp/balena/seen' }],
        3,
      ),
    );
    assert.equal((await rig.reconciler.whenSettled()).phase, 'converged');
    for (let i = 0; i < 50; i++) {
      try {
        const { readFile } = await import('node:fs/promises');
        const seen = await readFile(
          join(rig.lockRoot, 'services', String(rig.appId), 'gone', 'seen'),
          'utf8',
        );
        if (seen.trim() !== '') {
          assert.equal(seen.trim(), 'precious');
          return;
        }
      } catch {
        // not written yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail('the data written before the removal was not read back');
  });
});
