/** State reports against the cloud peer (docs/protocol.md#state-reports): diff, throttle, retries, metrics, exact image echo. */
import assert from 'node:assert/strict';
import type { HardwareMetrics } from '../../../src/cloud/ports.js';
import { buildAppsReport, buildDeviceReport } from '../../../src/cloud/report-builder.js';
import { StateReporter } from '../../../src/cloud/state-reporter.js';
import type { ReconcileStatus } from '../../../src/reconciler/status.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { ManualClock } from '../../unit/reconciler/support/manual-clock.js';
import {
  FLEET_UUID,
  startHarness,
  twoServiceRelease,
  type CloudHarness,
} from './support/cloud-harness.js';

const COMMIT = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

function running(status: 'Running' | 'Downloading' = 'Running'): ReconcileStatus {
  const service = (name: string) => ({
    serviceName: name,
    // The reconciler's normalised image differs from the cloud's string: the report must not use it.
    image: `127.0.0.1:5050/v2/${name}:normalised`,
    status,
    containerId: undefined,
    downloadProgress: status === 'Downloading' ? 40 : undefined,
    waitingFor: undefined,
    error: undefined,
  });
  return {
    appState: 'applied',
    phase: 'converged',
    rounds: 3,
    lastAppliedAt: 1,
    lastError: undefined,
    lastProgressAt: undefined,
    apps: {
      [FLEET_UUID]: {
        appUuid: FLEET_UUID,
        appId: 1,
        name: 'testfleet',
        targetCommit: COMMIT,
        currentCommit: status === 'Running' ? COMMIT : undefined,
        updateStatus: status === 'Running' ? 'done' : 'downloading',
        services: { main: service('main'), sidecar: service('sidecar') },
      },
    },
  };
}

describe('cloud state reports against the peer', function () {
  let h: CloudHarness;
  let clock: ManualClock;
  let status: ReconcileStatus;
  let ip: string;
  let metrics: HardwareMetrics | undefined;
  let metricsReads: number;
  let hardwareMetrics: boolean;
  let reporter: StateReporter;

  beforeEach(async function () {
    h = await startHarness({ provisioned: true });
    h.peer.setRelease(twoServiceRelease(COMMIT));
    const target = h.peer.model.targetState(h.peer.device(h.config.value.uuid)!) as Record<
      string,
      { name: string; config: Record<string, string>; apps: Record<string, never> }
    >;
    const device = target[h.config.value.uuid]!;
    await h.targets.save({ name: device.name, config: device.config, apps: device.apps });
    clock = new ManualClock(Date.now());
    status = running();
    ip = '192.168.1.50';
    metrics = undefined;
    metricsReads = 0;
    hardwareMetrics = true;
    reporter = new StateReporter({
      client: h.client,
      uuid: () => h.config.value.uuid,
      key: () => h.config.value.deviceApiKey,
      clock,
      build: async () =>
        buildDeviceReport(
          {
            api_port: 48484,
            api_secret: 's'.repeat(32),
            os_version: 'Debian GNU/Linux 12 (bookworm)',
            os_variant: undefined,
            supervisor_version: '0.1.0',
            ip_address: ip,
            mac_address: '02:42:AC:11:00:02',
            name: 'aged-grass',
          },
          buildAppsReport(status, await h.targets.load(), new Map()),
        ),
      metrics: () => {
        metricsReads += 1;
        return Promise.resolve(metrics);
      },
      settings: () => ({ hardwareMetrics, pollIntervalMs: 900_000 }),
      logger: silentLogger(),
    });
  });
  afterEach(async () => h.close());

  const reports = () => h.peer.device(h.config.value.uuid)?.reports.map((r) => r.body) ?? [];

  it('first report: every device field and the apps with each image echoed exactly as the target gave it', async function () {
    assert.equal(await reporter.reportOnce(), 'sent');
    const [first] = reports();
    assert.ok(first);
    for (const field of [
      'api_port',
      'api_secret',
      'ip_address',
      'mac_address',
      'os_version',
      'supervisor_version',
      'status',
      'name',
    ])
      assert.ok(field in first, field);
    const device = h.peer.device(h.config.value.uuid)!;
    assert.equal(device.runningRelease[FLEET_UUID], COMMIT);
    assert.deepEqual(device.imageInstalls[`${COMMIT}/main`], {
      status: 'Running',
      download_progress: null,
    });
    const apps = first['apps'] as Record<
      string,
      { releases: Record<string, { services: Record<string, { image: string }> }> }
    >;
    assert.equal(
      apps[FLEET_UUID]?.releases[COMMIT]?.services['main']?.image,
      twoServiceRelease(COMMIT).services.main.image,
    );
  });

  it('then only what changed, and nothing at all when nothing changed', async function () {
    await reporter.reportOnce();
    assert.equal(await reporter.reportOnce(), 'nothing');
    ip = '192.168.1.51';
    await clock.advance(10_000);
    assert.equal(await reporter.reportOnce(), 'sent');
    assert.deepEqual(reports()[1], { ip_address: '192.168.1.51' });
    assert.equal(reports().length, 2);
  });

  it('at most one report every 10 s', async function () {
    await reporter.reportOnce();
    ip = '10.0.0.2';
    assert.equal(reporter.waitBeforeNext(), 10_000);
    await clock.advance(4_000);
    assert.equal(reporter.waitBeforeNext(), 6_000);
    await clock.advance(6_000);
    assert.equal(reporter.waitBeforeNext(), 0);
  });

  it('a failed report is retried with backoff, and the next success carries every unsent field', async function () {
    await reporter.reportOnce();
    h.peer.faults.add({ kind: 'status', status: 503, method: 'PATCH' });
    ip = '10.0.0.2';
    await clock.advance(10_000);
    assert.equal(await reporter.reportOnce(), 'failed');
    assert.equal(reporter.waitBeforeNext(), 15_000);
    status = running('Downloading');
    await clock.advance(15_000);
    assert.equal(await reporter.reportOnce(), 'sent');
    const last = reports().at(-1)!;
    assert.deepEqual(Object.keys(last).sort(), ['apps', 'ip_address']);
    const apps = last['apps'] as Record<
      string,
      { releases: Record<string, { services: Record<string, unknown> }> }
    >;
    assert.deepEqual(apps[FLEET_UUID]?.releases[COMMIT]?.services['main'], {
      image: twoServiceRelease(COMMIT).services.main.image,
      status: 'Downloading',
      download_progress: 40,
    });
  });

  it('Retry-After (seconds) on a 429 holds the next report back at least that long', async function () {
    h.peer.faults.add({ kind: 'rate-limit', retryAfterSeconds: 300, method: 'PATCH' });
    assert.equal(await reporter.reportOnce(), 'failed');
    assert.equal(reporter.waitBeforeNext(), 300_000);
  });

  it('metrics: read at most every 5 min, sent only across the thresholds', async function () {
    const base: HardwareMetrics = {
      cpu_usage: 12,
      memory_usage: 812,
      memory_total: 3906,
      storage_usage: 2100,
      storage_total: 29000,
      storage_block_device: '/dev/sda1',
      cpu_temp: 48,
      cpu_id: null,
    };
    metrics = base;
    await reporter.reportOnce();
    assert.equal(reports()[0]?.['cpu_usage'], 12);
    // Within the same buckets (cpu 20 %, temperature 5 °C, memory 10 MiB): nothing to send.
    metrics = { ...base, cpu_usage: 19, cpu_temp: 49, memory_usage: 815 };
    await clock.advance(300_000);
    assert.equal(await reporter.reportOnce(), 'nothing');
    // Across them, but less than 5 min after the last reading: not even read.
    metrics = { ...base, cpu_usage: 55 };
    await clock.advance(60_000);
    const reads = metricsReads;
    assert.equal(await reporter.reportOnce(), 'nothing');
    assert.equal(metricsReads, reads);
    await clock.advance(240_000);
    assert.equal(await reporter.reportOnce(), 'sent');
    assert.deepEqual(reports().at(-1), { cpu_usage: 55 });
  });

  it('SUPERVISOR_HARDWARE_METRICS=false: metrics sent once as null, never read', async function () {
    hardwareMetrics = false;
    metrics = {
      cpu_usage: 1,
      memory_usage: 1,
      memory_total: 1,
      storage_usage: 1,
      storage_total: 1,
      storage_block_device: null,
      cpu_temp: 1,
      cpu_id: null,
    };
    await reporter.reportOnce();
    assert.equal(reports()[0]?.['cpu_usage'], null);
    assert.equal(metricsReads, 0);
    await clock.advance(600_000);
    assert.equal(await reporter.reportOnce(), 'nothing');
  });
});
