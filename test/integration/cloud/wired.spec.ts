/**
 * The cloud binding as main.ts assembles it (`wireCloud`) against the peer, with a real config.json,
 * SQLite store and the agent's Prometheus registry: the metrics of polls, reports and wire bytes; the
 * cloud's reachability as the device's status says it through an outage, with the connectivity check's
 * system lines and a health that stays green; the initial config report, once.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { wireCloud, type WiredCloud } from '../../../src/cloud/wire-cloud.js';
import { ConfigJsonFile } from '../../../src/config/config-json-file.js';
import { AgentMetrics } from '../../../src/observability/agent-metrics.js';
import { systemClock } from '../../../src/shared/clock.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { waitUntil } from '../../support/cloud-peer/wait.js';
import {
  startHarness,
  StubReconciler,
  twoServiceRelease,
  type CloudHarness,
} from './support/cloud-harness.js';

/** The value of one sample of the Prometheus text, 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('the wired cloud binding against the peer', function () {
  this.timeout(60_000);
  let h: CloudHarness;
  let wired: WiredCloud | undefined;
  let systemLines: string[];

  const wire = (
    extra: Partial<Parameters<typeof wireCloud>[0]> = {},
    config = h.config,
  ): WiredCloud =>
    wireCloud({
      endpoint: h.peer.url,
      rootCaBase64: h.peer.balenaRootCA,
      config,
      store: h.targets,
      reconciler: new StubReconciler(),
      facts: {
        deviceType: () => 'generic-amd64',
        osVersion: () => Promise.resolve('bosunOS 1.0'),
        osVariant: () => Promise.resolve('prod'),
        ipAddresses: () => Promise.resolve(['192.0.2.10']),
        macAddresses: () => Promise.resolve(['02:00:00:00:00:01']),
      },
      metrics: () => Promise.resolve(undefined),
      settings: () => ({
        pollIntervalMs: 10_000,
        instantUpdates: true,
        hardwareMetrics: false,
        connectivityCheck: true,
      }),
      apiPort: () => 48484,
      apiSecret: () => Promise.resolve('s'.repeat(32)),
      version: '0.0.0-test',
      localMode: () => false,
      systemLog: { message: (text) => systemLines.push(text) },
      clock: systemClock,
      logger: silentLogger(),
      jitterMs: 0,
      connectivityCheckMs: 200,
      ...extra,
    });

  beforeEach(() => {
    systemLines = [];
    wired = undefined;
  });
  afterEach(async () => {
    await wired?.stop();
    await h.close();
  });

  it('counts polls and reports by outcome and the bytes on the wire, exactly what the peer carried', async () => {
    h = await startHarness({ provisioned: true });
    h.peer.setRelease(twoServiceRelease('a1b2c3d4e5f60718293a4b5c6d7e8f90'));
    const metrics = new AgentMetrics({
      version: 'test',
      localMode: false,
      serviceStates: () => new Map(),
      processMetrics: false,
    });
    wired = wire({ traffic: metrics });
    wired.start();
    const uuid = h.config.value.uuid;
    await waitUntil(() => (h.peer.device(uuid)?.reports.length ?? 0) > 0, 'a report');
    // A second poll: the target is unchanged, so a 304.
    wired.port.fetchTargetNow({ force: false, cancel: false });
    await waitUntil(() => h.peer.requests.filter((r) => r.status === 304).length > 0, 'a 304');
    await waitUntil(() => wired?.poller()?.inFlightSince === undefined, 'the poll ended');
    // Stopping closes the connections: their last bytes (TLS close_notify) are counted then.
    await wired.stop();
    wired = undefined;
    const text = (await metrics.render()).body;
    const polls200 = h.peer.requests.filter(
      (r) => r.method === 'GET' && r.path.endsWith('/state') && r.status === 200,
    );
    assert.equal(sample(text, 'bosun_cloud_polls_total{outcome="ok"}'), polls200.length);
    assert.equal(sample(text, 'bosun_cloud_polls_total{outcome="not-modified"}'), 1);
    assert.equal(sample(text, 'bosun_cloud_polls_total{outcome="error"}'), 0);
    const reports = h.peer.requests.filter(
      (r) => r.method === 'PATCH' && r.path === '/device/v3/state',
    );
    assert.ok(reports.length >= 1);
    assert.equal(sample(text, 'bosun_cloud_reports_total{outcome="ok"}'), reports.length);
    // TLS records and handshakes included: what the device sent is what the peer read, byte for byte.
    const carried = h.peer.bytes();
    assert.equal(sample(text, 'bosun_cloud_bytes_total{direction="sent"}'), carried.received);
    // Received: the same, but for the TLS close_notify alert (24 bytes) the peer writes on each TLS
    // connection as the device hangs up, which the device never reads.
    const received = sample(text, 'bosun_cloud_bytes_total{direction="received"}');
    const tlsConnections = carried.tlsFull + carried.tlsResumed;
    assert.ok(
      received <= carried.sent && carried.sent - received <= 24 * tlsConnections,
      `device counted ${received} B received, the peer sent ${carried.sent} B over ${tlsConnections} TLS connections`,
    );
    assert.ok(carried.received > 0 && carried.sent > 0);
    // Bounded labels: nothing but the outcome and direction words.
    const labels = text
      .split('\n')
      .filter((l) => l.startsWith('bosun_cloud_'))
      .map((l) => l.slice(0, l.indexOf(' ')));
    for (const l of labels)
      assert.match(
        l,
        /^bosun_cloud_\w+\{(outcome="(ok|not-modified|error)"|direction="(sent|received)")\}$/,
      );
  });

  it('counts failed polls and reports as errors', async () => {
    h = await startHarness({ provisioned: true });
    h.peer.setRelease(twoServiceRelease('a1b2c3d4e5f60718293a4b5c6d7e8f90'));
    const counted: string[] = [];
    h.peer.faults.add({ kind: 'status', status: 503, method: 'GET', path: /\/state$/ });
    h.peer.faults.add({ kind: 'status', status: 500, method: 'PATCH' });
    wired = wire({
      traffic: {
        cloudPoll: (o) => counted.push(`poll:${o}`),
        cloudReport: (o) => counted.push(`report:${o}`),
        cloudBytes: () => undefined,
      },
    });
    wired.start();
    await waitUntil(() => counted.includes('poll:error'), 'a failed poll counted');
    await waitUntil(() => counted.includes('report:error'), 'a failed report counted');
  });

  it('says in its status when the cloud is unreachable, stays healthy, logs the connectivity lines, and recovers', async () => {
    h = await startHarness({ provisioned: true });
    h.peer.setRelease(twoServiceRelease('a1b2c3d4e5f60718293a4b5c6d7e8f90'));
    wired = wire();
    assert.equal(wired.connectivity().provisioned, false);
    wired.start();
    const cloud = wired;
    await waitUntil(() => cloud.connectivity().reachable === true, 'reachable');
    const up = cloud.connectivity();
    assert.equal(up.provisioned, true);
    assert.ok(up.lastSuccessfulPollAt !== null);
    assert.equal(up.offlineSince, null);
    assert.equal(up.lastError, null);
    await waitUntil(() => cloud.connectivity().connectivityCheck === 'connected', 'connected');
    assert.deepEqual(systemLines, ['Internet Connectivity: OK']);

    await h.peer.goOffline();
    cloud.port.fetchTargetNow({ force: false, cancel: false });
    await waitUntil(() => cloud.connectivity().reachable === false, 'unreachable');
    // A failed poll starts the probes (while polls succeed they are the proof: no probe is sent).
    await waitUntil(
      () => cloud.connectivity().connectivityCheck === 'disconnected',
      'the connectivity check notices',
    );
    const down = cloud.connectivity();
    assert.ok(down.offlineSince !== null && down.offlineSince >= (up.lastSuccessfulPollAt ?? 0));
    assert.equal(down.lastSuccessfulPollAt, up.lastSuccessfulPollAt, 'the last success is kept');
    assert.match(down.lastError ?? '', /ECONNREFUSED/);
    assert.deepEqual(systemLines, ['Internet Connectivity: OK', 'Waiting for connectivity...']);
    for (const check of cloud.healthChecks)
      assert.deepEqual(check.run(), { healthy: true }, `${check.name} while offline`);
    const stored = await h.targets.load();
    assert.ok(stored, 'the stored target stays');

    const connectionsWhileOffline = h.peer.bytes().connections;
    await h.peer.comeBack();
    await waitUntil(
      () => cloud.connectivity().connectivityCheck === 'connected',
      'the connectivity check sees it back',
    );
    // Back: the device polls at once, not after its backoff (15 s and more).
    await waitUntil(() => cloud.connectivity().reachable === true, 'reachable again');
    assert.ok(h.peer.bytes().connections > connectionsWhileOffline);
    assert.equal(cloud.connectivity().offlineSince, null);
    assert.equal(cloud.connectivity().lastError, null);
    assert.deepEqual(systemLines, [
      'Internet Connectivity: OK',
      'Waiting for connectivity...',
      'Internet Connectivity: OK',
    ]);
  });

  it('sends no probe while polls succeed (they prove connectivity)', async () => {
    h = await startHarness({ provisioned: true });
    // A long poll interval: no poll or report falls in the window watched below.
    wired = wire({
      settings: () => ({
        pollIntervalMs: 600_000,
        instantUpdates: true,
        hardwareMetrics: false,
        connectivityCheck: true,
      }),
    });
    wired.start();
    const cloud = wired;
    await waitUntil(() => cloud.connectivity().reachable === true, 'reachable');
    await waitUntil(() => cloud.connectivity().connectivityCheck === 'connected', 'connected');
    const connections = h.peer.bytes().connections;
    // Twenty check intervals (200 ms here) with polls succeeding: no new connection at all.
    await new Promise((resolve) => setTimeout(resolve, 20 * 200));
    assert.equal(h.peer.bytes().connections, connections);
  });

  it('SUPERVISOR_CONNECTIVITY_CHECK=false turns the check off: no lines, state off', async () => {
    h = await startHarness({ provisioned: true });
    wired = wire({
      settings: () => ({
        pollIntervalMs: 10_000,
        instantUpdates: true,
        hardwareMetrics: false,
        connectivityCheck: false,
      }),
    });
    wired.start();
    const cloud = wired;
    await waitUntil(() => cloud.connectivity().connectivityCheck === 'off', 'off');
    await h.peer.goOffline();
    cloud.port.fetchTargetNow({ force: false, cancel: false });
    await waitUntil(() => cloud.connectivity().reachable === false, 'unreachable');
    assert.equal(cloud.connectivity().connectivityCheck, 'off');
    assert.deepEqual(systemLines, []);
  });

  it('reports the initial config once: non-default device vars the target lacks, and the initial device name', async () => {
    h = await startHarness({ provisioned: true });
    h.peer.setRelease(twoServiceRelease('a1b2c3d4e5f60718293a4b5c6d7e8f90'));
    const source = {
      reportedTo: () => h.store.config.get('initialConfigReported'),
      markReported: (endpoint: string) => h.store.config.set('initialConfigReported', endpoint),
      // The device was set up with persistent logging and a 20-minute poll (config.json).
      current: () => ({
        SUPERVISOR_POLL_INTERVAL: '1200000',
        SUPERVISOR_PERSISTENT_LOGGING: 'true',
        SUPERVISOR_LOCAL_MODE: 'true',
        SUPERVISOR_HARDWARE_METRICS: 'true',
      }),
      defaults: {
        SUPERVISOR_POLL_INTERVAL: '900000',
        SUPERVISOR_PERSISTENT_LOGGING: 'false',
        SUPERVISOR_LOCAL_MODE: 'false',
        SUPERVISOR_HARDWARE_METRICS: 'true',
      },
      initialDeviceName: 'garden-gate',
    };
    wired = wire({ initialConfig: source });
    wired.start();
    const uuid = h.config.value.uuid;
    await waitUntil(
      async () => (await h.store.config.get('initialConfigReported')) === h.peer.url,
      'the report done',
    );
    const device = h.peer.device(uuid);
    // openBalena always puts the poll interval in the target: the device's own value is not pushed
    // over it. Local mode is never pushed to the fleet; a default is not worth a variable.
    assert.deepEqual(device?.config, { RESIN_SUPERVISOR_PERSISTENT_LOGGING: 'true' });
    assert.equal(device?.name, 'garden-gate');
    // The target now carries the var: fetched at once, not an interval later.
    await waitUntil(async () => {
      const stored = await h.targets.load();
      return (
        stored?.config['RESIN_SUPERVISOR_PERSISTENT_LOGGING'] === 'true' &&
        stored.name === 'garden-gate'
      );
    }, 'the target with the reported var and name');
    await wired.stop();

    // A restart: nothing reported again.
    const posts = () =>
      h.peer.requests.filter((r) => r.path.startsWith('/v7/device_config_variable')).length;
    const before = posts();
    systemLines = [];
    wired = wire({ initialConfig: source });
    wired.start();
    const again = wired;
    await waitUntil(() => again.poller()?.lastSuccessAt !== undefined, 'a poll after the restart');
    await again.stop();
    wired = undefined;
    assert.equal(posts(), before);
    assert.equal(
      h.peer.requests.filter((r) => r.method === 'PATCH' && r.path.startsWith('/v7/device('))
        .length,
      1,
    );
  });

  it('a refused initial device name is said as a system line and does not block the report', async () => {
    h = await startHarness({ provisioned: true });
    // Another device's id in config.json: the rename is refused (401), the vars still go.
    const configPath = h.dir.file('config.json');
    const other = h.peer.model.register('d'.repeat(32), 'generic-amd64', 'o'.repeat(32));
    const wrongId = JSON.parse(JSON.stringify(h.config.value)) as Record<string, unknown>;
    wrongId['deviceId'] = other.id;
    writeFileSync(configPath, JSON.stringify(wrongId));
    const config = await ConfigJsonFile.open(configPath, silentLogger());
    wired = wire(
      {
        initialConfig: {
          reportedTo: () => h.store.config.get('initialConfigReported'),
          markReported: (endpoint) => h.store.config.set('initialConfigReported', endpoint),
          current: () => ({}),
          defaults: {},
          initialDeviceName: 'nope',
        },
      },
      config,
    );
    wired.start();
    await waitUntil(
      async () => (await h.store.config.get('initialConfigReported')) === h.peer.url,
      'the report done',
    );
    assert.ok(systemLines.includes('Unable to report initial device name to API'));
    assert.notEqual(h.peer.model.byId(other.id)?.name, 'nope');
  });
});
