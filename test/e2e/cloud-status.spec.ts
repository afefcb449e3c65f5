/**
 * A managed device's view of its cloud link, through the built agent on the real engine: the initial
 * config report and config.json's config vars, the cloud metrics on /metrics, and an outage of the cloud
 * (also across an agent restart): the status says so (/v2/state/status, the dashboard's words, `bosun
 * status`), the connectivity lines are system lines, /v1/healthy stays green, the service keeps running.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { agentCommand } from '../support/agent-command.js';
import { startCloudPeer, type CloudPeer } from '../support/cloud-peer/index.js';
import { waitUntil } from '../support/cloud-peer/wait.js';
import {
  cleanupByLabel,
  requireDocker,
  TEST_LABEL,
  testDocker,
  uniquePrefix,
} from '../support/docker.js';
import { TEST_IMAGES } from '../support/images.js';
import { requireRegistries } from '../support/registry.js';
import { AgentProcess } from '../support/agent-process.js';
import { LOOP_CMD } from '../support/local-target-body.js';

const FLEET_UUID = '7a2b0a6b8e3f44bc7ad45d0b628b4377';
const COMMIT = 'cccc0000cccc0000cccc0000cccc0001';

interface CloudStatus {
  reachable: boolean | null;
  lastSuccessfulPoll: string | null;
  offlineSince: string | null;
  lastError: string | null;
  connectivityCheck: string;
}

describe('agent process: the cloud link in the device status, metrics and config', function () {
  this.timeout(300_000);
  const prefix = uniquePrefix('e2e-cloudst');
  const owner = { [TEST_LABEL]: prefix };
  let peer: CloudPeer;
  let agent: AgentProcess;
  let uuid: string;
  let key: string;

  const get = async (path: string): Promise<Response> =>
    fetch(`${agent.url}${path}`, { headers: { Authorization: `Bearer ${key}` } });
  const cloudStatus = async (): Promise<CloudStatus> => {
    const body = (await (await get('/v2/state/status')).json()) as { cloud: CloudStatus };
    return body.cloud;
  };
  const systemLines = async (): Promise<string[]> => {
    const body = (await (await get('/v2/logs/recent')).json()) as {
      lines: Array<{ message: string }>;
    };
    return body.lines.map((l) => l.message);
  };
  const mainContainer = async () => {
    const list = await testDocker().listContainers({
      all: true,
      filters: { label: [`${TEST_LABEL}=${prefix}`] },
    });
    return list.find((c) => c.Labels['io.balena.service-name'] === 'main');
  };

  before(async () => {
    await requireDocker();
    await requireRegistries();
    peer = await startCloudPeer({
      fleet: { id: 9, uuid: FLEET_UUID, config: { RESIN_SUPERVISOR_POLL_INTERVAL: '10000' } },
      minPollIntervalMs: 10_000,
    });
    peer.setRelease({
      id: 91,
      commit: COMMIT,
      services: {
        main: {
          id: 1,
          image_id: 911,
          image: TEST_IMAGES.busybox,
          environment: {},
          labels: owner,
          composition: { command: LOOP_CMD, stop_grace_period: '5s' },
        },
      },
      networks: { default: { labels: owner } },
    });
    agent = await AgentProcess.create(prefix, {
      peer,
      fleetId: 9,
      extraConfig: {
        initialDeviceName: 'pump-house',
        persistentLogging: true,
        vendorThing: { keep: ['me', 1] },
      },
    });
    await agent.start();
    uuid = await waitUntil(() => agent.configJson()['uuid'] as string | undefined, 'a uuid');
    await waitUntil(
      async () => (await mainContainer())?.State === 'running',
      'the service running',
      180_000,
    );
    key = await waitUntil(
      () => peer.device(uuid)?.fields['api_secret'] as string | undefined,
      'the api_secret reported',
    );
  });
  after(async () => {
    await agent?.remove();
    await cleanupByLabel(prefix);
    await peer?.close();
  });

  it('reports its initial config once and keeps the config vars that live in config.json there', async () => {
    await waitUntil(() => peer.device(uuid)?.name === 'pump-house', 'the initial device name');
    // config.json said persistent logging; the fleet does not set it: it becomes a device config var.
    assert.deepEqual(peer.device(uuid)?.config, { RESIN_SUPERVISOR_PERSISTENT_LOGGING: 'true' });
    // The fleet's poll interval lands in config.json; persistentLogging stays; other keys are kept.
    await waitUntil(
      () => agent.configJson()['appUpdatePollInterval'] === 10_000,
      'appUpdatePollInterval in config.json',
    );
    const config = agent.configJson();
    assert.equal(config['persistentLogging'], true);
    assert.deepEqual(config['vendorThing'], { keep: ['me', 1] });
    assert.equal(config['apiKey'], undefined, 'the provisioning key is gone');
  });

  it('counts cloud polls, reports and bytes on /metrics', async () => {
    await waitUntil(() => (peer.device(uuid)?.reports.length ?? 0) > 0, 'a report');
    const res = await get('/metrics');
    assert.equal(res.status, 200);
    const text = await res.text();
    const value = (series: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? 0 : Number(line.slice(series.length + 1));
    };
    assert.ok(value('bosun_cloud_polls_total{outcome="ok"}') >= 1, text);
    assert.ok(value('bosun_cloud_reports_total{outcome="ok"}') >= 1);
    assert.ok(value('bosun_cloud_bytes_total{direction="sent"}') > 0);
    assert.ok(value('bosun_cloud_bytes_total{direction="received"}') > 0);
  });

  it('says the cloud is unreachable while the device keeps running, healthy, also after a restart, and recovers', async () => {
    await waitUntil(async () => (await cloudStatus()).reachable === true, 'reachable');
    const before = await mainContainer();
    assert.ok(before);

    await peer.goOffline();
    const down = await waitUntil(
      async () => {
        const s = await cloudStatus();
        return s.reachable === false && s.connectivityCheck === 'disconnected' ? s : undefined;
      },
      'the status saying the cloud is unreachable',
      120_000,
    );
    assert.ok(down.offlineSince !== null && down.lastSuccessfulPoll !== null);
    assert.match(down.lastError ?? '', /ECONNREFUSED/);
    assert.equal((await fetch(`${agent.url}/v1/healthy`)).status, 200, 'offline is not sick');
    await waitUntil(
      async () => (await systemLines()).includes('Waiting for connectivity...'),
      'the connectivity system line',
    );
    const dashboard = (await (await get('/dashboard/state')).json()) as {
      device: { connectivity: string };
    };
    assert.match(dashboard.device.connectivity, /unreachable since .*running the stored target/);

    // A restart while the cloud is down: the stored target keeps running, untouched.
    await agent.kill();
    await agent.start();
    const again = await waitUntil(
      async () => ((await cloudStatus()).reachable === false ? cloudStatus() : undefined),
      'unreachable after the restart',
      120_000,
    );
    assert.equal(again.lastSuccessfulPoll, null, 'no poll succeeded since this start');
    const after = await mainContainer();
    assert.equal(after?.Id, before.Id, 'the same container');
    assert.equal(after?.State, 'running');
    assert.equal((await fetch(`${agent.url}/v1/healthy`)).status, 200);
    const agentCmd = agentCommand();
    const status = spawnSync(agentCmd.command, [...agentCmd.args, 'status'], {
      env: { ...process.env, BOSUN_API_PORT: String(agent.port), BOSUN_API_KEY: key },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /unreachable/);

    const okLines = async (): Promise<number> =>
      (await systemLines()).filter((l) => l === 'Internet Connectivity: OK').length;
    const okBefore = await okLines();
    await peer.comeBack();
    await waitUntil(
      async () => (await cloudStatus()).reachable === true,
      'reachable again',
      120_000,
    );
    const up = await cloudStatus();
    assert.equal(up.offlineSince, null);
    assert.equal(up.lastError, null);
    await waitUntil(async () => (await okLines()) > okBefore, 'the connectivity OK line');
    // Still one initial config report, though the agent restarted.
    assert.equal(
      peer.requests.filter((r) => r.path.startsWith('/v7/device_config_variable')).length,
      1,
    );
  });
});
