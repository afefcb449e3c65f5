/**
 * A fresh managed device end to end, on the real engine and the built agent: config.json holds only the
 * cloud peer's address, a provisioning key, a fleet id and a device type. It registers, receives a
 * two-service release, runs both, and the peer holds a report of both `Running` with the images echoed
 * exactly. The next release (one env change), triggered through POST /v1/update with the api_secret the
 * device reported, recreates only that service. An agent SIGKILLed during an update still converges and
 * reports.
 */
import assert from 'node:assert/strict';
import { startCloudPeer, type CloudPeer, type PeerRelease } from '../support/cloud-peer/index.js';
import { waitUntil } from '../support/cloud-peer/wait.js';
import {
  cleanupByLabel,
  ownedContainers,
  requireDocker,
  TEST_LABEL,
  testDocker,
  uniquePrefix,
} from '../support/docker.js';
import { TEST_IMAGES } from '../support/images.js';
import { requireRegistries } from '../support/registry.js';
import { AgentProcess } from '../support/agent-process.js';
import { localTargetBody, LOOP_CMD } from '../support/local-target-body.js';

const FLEET_UUID = '5e1f0a6b8e3f44bc7ad45d0b628b4355';

describe('agent process: a managed device driven by the cloud peer', function () {
  this.timeout(300_000);
  const prefix = uniquePrefix('e2e-cloud');
  const owner = { [TEST_LABEL]: prefix };
  let peer: CloudPeer;
  let agent: AgentProcess | undefined;

  const release = (commit: string, id: number, mainEnv: Record<string, string>): PeerRelease => ({
    id,
    commit,
    services: {
      main: {
        id: 1,
        image_id: id * 10 + 1,
        image: TEST_IMAGES.busybox,
        environment: mainEnv,
        labels: owner,
        composition: { command: LOOP_CMD, stop_grace_period: '5s' },
      },
      sidecar: {
        id: 2,
        image_id: id * 10 + 2,
        image: TEST_IMAGES.busybox,
        environment: {},
        labels: owner,
        composition: { command: LOOP_CMD, stop_grace_period: '5s' },
      },
    },
    networks: { default: { labels: owner } },
  });

  const containers = async () => ownedContainers(prefix);

  /** The engine runs exactly main and sidecar of `commit`, and the peer holds a report saying so. */
  const convergedAndReported = async (commit: string) => {
    const uuid = await waitUntil(() => agent?.configJson()['uuid'] as string | undefined, 'a uuid');
    const running = await waitUntil(
      async () => {
        const seen = await containers();
        const ok =
          seen.length === 2 &&
          ['main', 'sidecar'].every((s) =>
            seen.some(
              (c) => c.service === s && c.state === 'running' && c.name.endsWith(`_${commit}`),
            ),
          );
        return ok ? seen : undefined;
      },
      `both services of ${commit} running`,
      180_000,
    );
    await waitUntil(
      () => {
        const device = peer.device(uuid);
        return (
          device !== undefined &&
          device.runningRelease[FLEET_UUID] === commit &&
          ['main', 'sidecar'].every(
            (s) => device.imageInstalls[`${commit}/${s}`]?.status === 'Running',
          )
        );
      },
      `a report of ${commit} with both services Running`,
      120_000,
    );
    return running;
  };

  before(async () => {
    await requireDocker();
    await requireRegistries();
    peer = await startCloudPeer({
      fleet: { id: 7, uuid: FLEET_UUID, config: { RESIN_SUPERVISOR_POLL_INTERVAL: '10000' } },
      minPollIntervalMs: 10_000,
    });
    peer.setRelease(release('aaaa0000aaaa0000aaaa0000aaaa0001', 1, { COLOR: 'red' }));
    agent = await AgentProcess.create(prefix, { peer: peer, fleetId: 7 });
  });
  after(async () => {
    await agent?.remove();
    await cleanupByLabel(prefix);
    await peer?.close();
  });

  it('registers, runs the two-service release, and reports both Running with the images echoed', async function () {
    await agent!.start();
    await convergedAndReported('aaaa0000aaaa0000aaaa0000aaaa0001');
    const config = agent!.configJson();
    assert.equal(config['apiKey'], undefined, 'the provisioning key is gone');
    assert.equal(typeof config['deviceId'], 'number');
    const device = peer.device(String(config['uuid']))!;
    assert.ok(device.keys.has(String(config['deviceApiKey'])));
    // Every report the peer accepted echoed the images exactly (it answers 401 otherwise).
    const patches = peer.requests.filter(
      (r) => r.method === 'PATCH' && r.path === '/device/v3/state',
    );
    assert.ok(
      patches.length > 0 && patches.every((r) => r.status === 200),
      JSON.stringify(patches.map((r) => r.status)),
    );
    assert.equal(device.fields['api_port'], agent!.port);
  });

  it('the next release (one env change), triggered by POST /v1/update with the api_secret, recreates only that service', async function () {
    const before = await containers();
    const secret = String(peer.device(String(agent!.configJson()['uuid']))!.fields['api_secret']);
    peer.setRelease(release('bbbb0000bbbb0000bbbb0000bbbb0002', 2, { COLOR: 'blue' }));
    const unauthenticated = await fetch(`${agent!.url}/v1/update`, { method: 'POST' });
    assert.equal(unauthenticated.status, 401, 'managed: the local API wants a key');
    const answer = await fetch(`${agent!.url}/v1/update`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ force: false }),
    });
    assert.equal(answer.status, 204);
    const after = await convergedAndReported('bbbb0000bbbb0000bbbb0000bbbb0002');
    const id = (list: typeof before, service: string) =>
      list.find((c) => c.service === service)?.id;
    assert.notEqual(id(after, 'main'), id(before, 'main'), 'main recreated');
    assert.equal(id(after, 'sidecar'), id(before, 'sidecar'), 'sidecar kept (renamed only)');
  });

  it('SIGKILLed during an update, the agent still converges and reports after a restart', async function () {
    peer.setRelease(release('cccc0000cccc0000cccc0000cccc0003', 3, { COLOR: 'green' }));
    const polls = peer.requests.length;
    const secret = String(peer.device(String(agent!.configJson()['uuid']))!.fields['api_secret']);
    await fetch(`${agent!.url}/v1/update`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${secret}` },
    });
    // Killed once it fetched the new target, in the middle of applying it.
    await waitUntil(
      () =>
        peer.requests
          .slice(polls)
          .some((r) => r.path.endsWith('/state') && r.method === 'GET' && r.status === 200),
      'the new target to be fetched',
    );
    await agent!.kill();
    await agent!.start();
    await convergedAndReported('cccc0000cccc0000cccc0000cccc0003');
  });

  it('SUPERVISOR_LOCAL_MODE from the cloud switches into local mode and back out, without a restart', async function () {
    const pid = agent!.child?.pid;
    const uuid = String(agent!.configJson()['uuid']);
    const secret = String(peer.device(uuid)!.fields['api_secret']);
    const reportsBeforeLocal = peer.device(uuid)!.reports.length;
    peer.model.fleet.config['RESIN_SUPERVISOR_LOCAL_MODE'] = '1';
    const update = (key: string) =>
      fetch(`${agent!.url}/v1/update`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}` },
      });
    assert.equal((await update(secret)).status, 204);
    // In local mode the local target endpoint answers, without a key (as balena-cli expects).
    await waitUntil(
      async () => (await fetch(`${agent!.url}/v2/local/target-state`)).status === 200,
      'local mode entered',
      60_000,
    );
    // A developer's push, with an image only this test uses (leaving local mode removes local images).
    const localImage = `bosun-e2e-local-${prefix}:1`;
    await testDocker()
      .getImage(TEST_IMAGES.busybox)
      .tag({ repo: `bosun-e2e-local-${prefix}`, tag: '1' });
    const appId = 50_000 + Math.floor(Math.random() * 10_000);
    await agent!.postLocalTarget(
      localTargetBody(prefix, appId, 'dddd0000dddd0000dddd0000dddd0004', 4, localImage, [
        { name: 'dev' },
      ]),
    );
    await waitUntil(
      async () => {
        const seen = await containers();
        return seen.length === 1 && seen[0]?.service === 'dev' && seen[0].state === 'running';
      },
      'only the pushed local app running',
      120_000,
    );
    // In local mode the report leaves the fleet's apps out: the cloud gets an empty `apps`.
    const device = peer.device(uuid)!;
    await waitUntil(
      () =>
        device.reports
          .slice(reportsBeforeLocal)
          .some((r) => JSON.stringify(r.body['apps']) === '{}'),
      'a local-mode report without apps',
      60_000,
    );
    const reportsBefore = device.reports.length;
    // Out again: the cloud's stored release comes back and is reported anew.
    delete peer.model.fleet.config['RESIN_SUPERVISOR_LOCAL_MODE'];
    assert.equal((await update(secret)).status, 204);
    await convergedAndReported('cccc0000cccc0000cccc0000cccc0003');
    await waitUntil(
      () =>
        device.reports.slice(reportsBefore).some((r) => {
          const apps = r.body['apps'] as Record<string, { release_uuid?: string }> | undefined;
          return apps?.[FLEET_UUID]?.release_uuid === 'cccc0000cccc0000cccc0000cccc0003';
        }),
      'the cloud release reported again after local mode',
      60_000,
    );
    await assert.rejects(
      testDocker().getImage(localImage).inspect(),
      'the local image went with local mode',
    );
    assert.equal(agent!.child?.pid, pid, 'no restart');
  });
});
