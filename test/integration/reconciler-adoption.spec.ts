/**
 * Adoption on the real engine: containers, network and volume made the way balena-supervisor makes them
 * for a target (its names and `io.balena.*` labels, the same create body, but no `io.bosun.config-hash`
 * label) are kept by the reconciler for that same target, and a changed target still recreates.
 */
import assert from 'node:assert/strict';
import { CONFIG_HASH_LABEL, serviceConfigHash } from '../../src/domain/config-hash.js';
import type { ReleaseTarget, ServiceTarget, TargetState } from '../../src/domain/model.js';
import { requireDocker, TEST_LABEL, testDocker } from '../support/docker.js';
import { requireRegistries } from '../support/registry.js';
import { dockerRig, dockerTarget, type DockerRig } from './support/reconciler-docker.js';

/**
 * The rig's target with what normalisation does for real: an explicit IPC mode and the config hash of
 * the create spec itself (the rig's targets carry placeholder hashes).
 */
function normalisedTarget(rig: DockerRig, webEnv: Record<string, string>): TargetState {
  const target = dockerTarget(rig, 'c0ffee', [
    { name: 'web', data: true, env: webEnv },
    { name: 'worker', env: { ROLE: 'worker' } },
  ]);
  for (const s of services(target, rig)) {
    s.createSpec.HostConfig.IpcMode = 'shareable';
    s.configHash = serviceConfigHash(s.createSpec);
  }
  return target;
}

function releaseOf(target: TargetState, rig: DockerRig): ReleaseTarget {
  const release = target.apps[rig.uuid]?.release;
  assert.ok(release, 'the target has a release');
  return release;
}

function services(target: TargetState, rig: DockerRig): ServiceTarget[] {
  return Object.values(releaseOf(target, rig).services);
}

/** What balena-supervisor would have left on the device for this target, running. */
async function asBalenaSupervisorMadeIt(rig: DockerRig, target: TargetState): Promise<void> {
  const release = releaseOf(target, rig);
  for (const net of Object.values(release.networks)) await rig.engine.createNetwork(net.createSpec);
  for (const vol of Object.values(release.volumes)) await rig.engine.createVolume(vol.createSpec);
  for (const s of Object.values(release.services)) {
    assert.equal(s.createSpec.Labels[CONFIG_HASH_LABEL], undefined, 'no bosun hash label');
    assert.match(s.createSpec.name, /^[a-z]+_\d+_\d+_c0ffee$/, 'balena container name');
    const { id } = await rig.engine.createContainer(s.createSpec);
    await rig.engine.startContainer(id);
  }
}

async function ours(rig: DockerRig): Promise<Map<string, { id: string; state: string }>> {
  const list = await testDocker().listContainers({
    all: true,
    filters: { label: [`${TEST_LABEL}=${rig.prefix}`] },
  });
  return new Map(
    list.map((c) => [c.Labels['io.balena.service-name'] ?? '', { id: c.Id, state: c.State }]),
  );
}

describe('Reconciler adopting what balena-supervisor made (real engine)', function () {
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

  it('keeps the containers, network and volume of the same target, and recreates only on a real change', async () => {
    rig = await dockerRig('adopt');
    const target = normalisedTarget(rig, { GREETING: 'hello' });
    await asBalenaSupervisorMadeIt(rig, target);
    const docker = testDocker();
    const before = await ours(rig);
    assert.deepEqual([...before.keys()].sort(), ['web', 'worker']);
    const networkId = (await docker.getNetwork(`${rig.uuid}_default`).inspect()).Id;

    rig.reconciler.start(target);
    const status = await rig.reconciler.whenSettled();
    assert.equal(status.phase, 'converged', status.lastError);
    const adopted = await ours(rig);
    for (const name of ['web', 'worker']) {
      assert.equal(adopted.get(name)?.id, before.get(name)?.id, `${name} adopted, not recreated`);
      assert.equal(adopted.get(name)?.state, 'running');
    }
    assert.equal((await docker.getNetwork(`${rig.uuid}_default`).inspect()).Id, networkId);
    await docker.getVolume(`${rig.appId}_data`).inspect();

    rig.reconciler.setTarget(normalisedTarget(rig, { GREETING: 'changed' }));
    assert.equal((await rig.reconciler.whenSettled()).phase, 'converged');
    const after = await ours(rig);
    assert.notEqual(after.get('web')?.id, before.get('web')?.id, 'a changed env recreates web');
    assert.equal(after.get('web')?.state, 'running');
    assert.equal(after.get('worker')?.id, before.get('worker')?.id, 'worker is still adopted');
    const recreated = await docker.getContainer(after.get('web')?.id ?? '').inspect();
    assert.ok(recreated.Config.Env.includes('GREETING=changed'));
    assert.equal(
      recreated.Config.Labels[CONFIG_HASH_LABEL],
      services(normalisedTarget(rig, { GREETING: 'changed' }), rig)[0]?.configHash,
      'what bosun recreates carries its own hash label',
    );
  });
});
