/**
 * The upgrade path from balena-supervisor v19.0.5, on the real engine: five containers, a network and a
 * volume laid out exactly as it leaves them (issue 9, docs/protocol.md#container-naming, docs/protocol.md#networks-and-volumes, docs/protocol.md#injected-environment), for the same target
 * bosun is given:
 * - containers without bosun's config-hash label, whose env carries `RESIN_SERVICE_KILL_ME_PATH` but not
 *   `BALENA_SERVICE_KILL_ME_PATH`, with `Healthcheck: {"Test": ["NONE"]}` and an explicit
 *   `StopSignal: "SIGTERM"`;
 * - a network named `<appUuid>_<name>` labelled with the app id only (no `io.balena.app-uuid`), the app
 *   uuid being numeric as in local mode, so the name also reads as a legacy `<appId>_<name>`;
 * - a volume `<appId>_<name>` labelled with the app uuid.
 * bosun adopts all of it (same ids, nothing made or removed) and reports applied in its first round
 * that does anything (recording the commit, which balena-supervisor kept in its own database); then one
 * env change recreates only that service.
 */
import assert from 'node:assert/strict';
import { CONFIG_HASH_LABEL, serviceConfigHash } from '../../src/domain/config-hash.js';
import type { ServiceTarget, TargetState } from '../../src/domain/model.js';
import type { StepOutcome } from '../../src/executor/execute-plan.js';
import { requireDocker, TEST_LABEL, testDocker } from '../support/docker.js';
import { requireRegistries } from '../support/registry.js';
import { dockerRig, dockerTarget, type DockerRig } from './support/reconciler-docker.js';

const HANDOVER = '/tmp/balena/handover-complete';
const SERVICES = ['api', 'cache', 'db', 'web', 'worker'];

/** The target as bosun's normalisation makes it: agent variables of both prefixes, its own hashes. */
function target(rig: DockerRig, changed: boolean): TargetState {
  const t = dockerTarget(
    { ...rig, uuid: String(rig.appId) },
    'c0ffee',
    SERVICES.map((name) => ({
      name,
      data: name === 'db',
      env: { ROLE: changed && name === 'web' ? 'changed' : name },
    })),
  );
  for (const s of services(t)) {
    s.createSpec.Env = [
      ...(s.createSpec.Env ?? []),
      `BALENA_SERVICE_KILL_ME_PATH=${HANDOVER}`,
      `RESIN_SERVICE_KILL_ME_PATH=${HANDOVER}`,
    ];
    s.createSpec.HostConfig.IpcMode = 'shareable';
    s.configHash = serviceConfigHash(s.createSpec);
  }
  return t;
}

function services(t: TargetState): ServiceTarget[] {
  return Object.values(t.apps).flatMap((a) => Object.values(a.release?.services ?? {}));
}

/** What balena-supervisor v19.0.5 leaves on the device for this target, running. */
async function asBalenaSupervisor19MadeIt(rig: DockerRig, t: TargetState): Promise<void> {
  const release = Object.values(t.apps)[0]!.release!;
  for (const net of Object.values(release.networks)) {
    const labels = { ...net.createSpec.Labels };
    delete labels['io.balena.app-uuid'];
    assert.equal(labels['io.balena.app-id'], String(rig.appId));
    assert.equal(net.engineName, `${rig.appId}_default`);
    await rig.engine.createNetwork({ ...net.createSpec, Labels: labels });
  }
  for (const vol of Object.values(release.volumes)) await rig.engine.createVolume(vol.createSpec);
  for (const s of Object.values(release.services)) {
    assert.equal(s.createSpec.Labels[CONFIG_HASH_LABEL], undefined, 'no bosun hash label');
    const { id } = await rig.engine.createContainer({
      ...s.createSpec,
      Env: (s.createSpec.Env ?? []).filter((l) => !l.startsWith('BALENA_SERVICE_KILL_ME_PATH=')),
      Healthcheck: { Test: ['NONE'] },
      StopSignal: 'SIGTERM',
    });
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

describe('Reconciler adopting what balena-supervisor v19.0.5 made (real engine)', function () {
  this.timeout(180_000);
  let rig: DockerRig | undefined;

  before(async () => {
    await requireDocker();
    await requireRegistries();
  });
  after(async () => {
    await rig?.close();
  });

  it('adopts its five containers, network and volume as they are, then recreates only what changes', async () => {
    const ran: StepOutcome[] = [];
    rig = await dockerRig(
      'adopt19',
      {},
      {},
      {
        stepStarted: () => undefined,
        stepEnded: (outcome) => ran.push(outcome),
      },
    );
    const first = target(rig, false);
    await asBalenaSupervisor19MadeIt(rig, first);
    const docker = testDocker();
    const inspected = await docker.getContainer((await ours(rig)).get('web')!.id).inspect();
    assert.deepEqual(inspected.Config.Healthcheck, { Test: ['NONE'] });
    assert.equal((inspected.Config as { StopSignal?: string }).StopSignal, 'SIGTERM');
    assert.ok(!inspected.Config.Env.some((l) => l.startsWith('BALENA_SERVICE_KILL_ME_PATH=')));
    const before = await ours(rig);
    assert.deepEqual([...before.keys()].sort(), SERVICES);
    const networkId = (await docker.getNetwork(`${rig.appId}_default`).inspect()).Id;

    rig.reconciler.start(first);
    const status = await rig.reconciler.whenSettled();
    assert.equal(status.phase, 'converged', status.lastError);
    assert.equal(status.appState, 'applied');
    assert.deepEqual(
      ran.map((o) => `${o.step.kind}:${o.status}`),
      ['recordCommit:ok'],
      'one round, and it only records the commit: nothing made, removed or restarted',
    );
    assert.ok(status.rounds <= 2, `applied after ${status.rounds} rounds`);
    const adopted = await ours(rig);
    for (const name of SERVICES) {
      assert.equal(adopted.get(name)?.id, before.get(name)?.id, `${name} adopted, not recreated`);
      assert.equal(adopted.get(name)?.state, 'running');
    }
    assert.equal((await docker.getNetwork(`${rig.appId}_default`).inspect()).Id, networkId);
    await docker.getVolume(`${rig.appId}_data`).inspect();

    ran.length = 0;
    rig.reconciler.setTarget(target(rig, true));
    assert.equal((await rig.reconciler.whenSettled()).phase, 'converged');
    const after = await ours(rig);
    for (const name of SERVICES) {
      if (name === 'web')
        assert.notEqual(after.get(name)?.id, before.get(name)?.id, 'web recreated');
      else assert.equal(after.get(name)?.id, before.get(name)?.id, `${name} kept`);
      assert.equal(after.get(name)?.state, 'running');
    }
    assert.ok(
      ran.every((o) => !o.step.kind.endsWith('Network') && !o.step.kind.endsWith('Volume')),
      JSON.stringify(ran.map((o) => o.step.id)),
    );
    assert.equal((await docker.getNetwork(`${rig.appId}_default`).inspect()).Id, networkId);
  });
});
