/** Target polling against the cloud peer (docs/protocol.md#target-polling): ETag/304, new and invalid targets, outages, Retry-After. */
import assert from 'node:assert/strict';
import { CloudClient } from '../../../src/cloud/cloud-client.js';
import { cloudHealthChecks, ApplyProgressWatch } from '../../../src/cloud/cloud-health.js';
import { TargetIntake } from '../../../src/cloud/target-intake.js';
import { TargetPoller } from '../../../src/cloud/target-poller.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { ManualClock } from '../../unit/reconciler/support/manual-clock.js';
import { waitUntil } from '../../support/cloud-peer/wait.js';
import {
  startHarness,
  StubReconciler,
  twoServiceRelease,
  type CloudHarness,
} from './support/cloud-harness.js';

describe('cloud target polling against the peer', function () {
  let h: CloudHarness;
  let reconciler: StubReconciler;
  let systemLines: string[];
  let intake: TargetIntake;
  let clock: ManualClock;
  let poller: TargetPoller;
  const settings = { pollIntervalMs: 900_000, instantUpdates: true };

  const makePoller = (client = h.client) =>
    new TargetPoller({
      client,
      uuid: () => h.config.value.uuid,
      key: () => h.config.value.deviceApiKey,
      clock,
      random: () => 0.5,
      settings: () => settings,
      hasStoredTarget: async () => (await h.targets.load()) !== undefined,
      accept: (doc, options) => intake.accept(doc, options),
      reapply: (options) => reconciler.triggerApply(options),
      logger: silentLogger(),
    });

  beforeEach(async function () {
    h = await startHarness({ provisioned: true });
    h.peer.setRelease(twoServiceRelease('a1b2c3d4e5f60718293a4b5c6d7e8f90'));
    reconciler = new StubReconciler();
    systemLines = [];
    intake = new TargetIntake({
      uuid: () => h.config.value.uuid,
      store: h.targets,
      reconciler,
      systemLog: { message: (text) => systemLines.push(text) },
      logger: silentLogger(),
    });
    clock = new ManualClock(Date.now());
    poller = makePoller();
  });
  afterEach(async () => h.close());

  it('stores a new target and hands it to the reconciler; then a 304 costs nothing more', async function () {
    assert.equal(await poller.pollOnce(), 'accepted');
    const stored = await h.targets.load();
    assert.ok(stored);
    const app = stored.apps['1d3ca6b8e3f44bc7ad45d0b628b43554'] as {
      releases: Record<string, unknown>;
    };
    assert.deepEqual(Object.keys(app.releases), ['a1b2c3d4e5f60718293a4b5c6d7e8f90']);
    assert.deepEqual(reconciler.applies, [{ force: false }]);
    assert.equal(
      h.peer.device(h.config.value.uuid)?.apiHeartbeatState,
      'online',
      'the poll is the heartbeat',
    );

    h.peer.resetBytes();
    assert.equal(await poller.pollOnce(), 'unchanged');
    const last = h.peer.requests.at(-1);
    assert.equal(last?.status, 304);
    assert.ok(last?.rawHeaders.includes('If-None-Match'));
    assert.deepEqual(reconciler.applies, [{ force: false }], 'nothing re-applied');
    // Idle poll on a kept-alive TLS connection: well under the 2 KB aim.
    const bytes = h.peer.bytes();
    assert.ok(bytes.received + bytes.sent < 2048, `idle poll ${bytes.received + bytes.sent} B`);
  });

  it('sends only the headers the cloud needs', async function () {
    await poller.pollOnce();
    const names = (h.peer.requests.at(-1)?.rawHeaders ?? [])
      .filter((_, i) => i % 2 === 0)
      .map((n) => n.toLowerCase());
    assert.deepEqual(
      names.sort(),
      ['accept-encoding', 'authorization', 'connection', 'host'].sort(),
    );
  });

  it('a new release after an unchanged poll is picked up (the ETag changed)', async function () {
    await poller.pollOnce();
    h.peer.setRelease(twoServiceRelease('b1b2c3d4e5f60718293a4b5c6d7e8f91', { COLOR: 'blue' }));
    assert.equal(await poller.pollOnce(), 'accepted');
    const stored = await h.targets.load();
    const app = stored?.apps['1d3ca6b8e3f44bc7ad45d0b628b43554'] as {
      releases: Record<string, unknown>;
    };
    assert.deepEqual(Object.keys(app.releases), ['b1b2c3d4e5f60718293a4b5c6d7e8f91']);
    assert.equal(reconciler.applies.length, 2);
  });

  it('an invalid target is kept out: stored target unchanged, system log lines, rejected in the report, not fetched again', async function () {
    await poller.pollOnce();
    const before = await h.targets.load();
    const bad = twoServiceRelease('c1b2c3d4e5f60718293a4b5c6d7e8f92');
    (bad.services.main as { composition: unknown }).composition = {
      ports: ['not a port spec'],
      network_mode: 42,
    };
    h.peer.setRelease(bad);
    assert.equal(await poller.pollOnce(), 'rejected');
    assert.deepEqual(await h.targets.load(), before, 'stored target unchanged');
    assert.equal(
      reconciler.applies.length,
      1,
      'the reconciler was not asked to apply anything new',
    );
    assert.match(systemLines[0] ?? '', /^Could not move to new release: /);
    assert.equal(
      intake.rejections.get('1d3ca6b8e3f44bc7ad45d0b628b43554'),
      'c1b2c3d4e5f60718293a4b5c6d7e8f92',
    );
    assert.equal(
      await poller.pollOnce(),
      'unchanged',
      'the same bad document is not downloaded again',
    );
  });

  it('the cloud down for a while, then back: counted as offline (healthy), backoff doubles up to the interval, then recovers', async function () {
    await poller.pollOnce();
    h.peer.faults.add({ kind: 'reset', times: Infinity });
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      assert.equal(await poller.pollOnce(), 'failed');
      delays.push(poller.nextDelay());
    }
    assert.deepEqual(delays, [15_000, 30_000, 60_000]);
    assert.equal(poller.offline, true);
    const apply = new ApplyProgressWatch(clock);
    const [polling] = cloudHealthChecks({
      clock,
      pollIntervalMs: () => settings.pollIntervalMs,
      poller: () => poller,
      apply,
    });
    // Three intervals offline, the loop still trying at each one: not sick.
    for (let i = 0; i < 3; i++) {
      await clock.advance(settings.pollIntervalMs);
      assert.equal(await poller.pollOnce(), 'failed');
    }
    assert.deepEqual(polling?.run(), { healthy: true }, 'offline is not sick');
    // But a loop that stopped trying is stuck, offline or not.
    await clock.advance(2 * settings.pollIntervalMs + 1_000);
    assert.equal(polling?.run().healthy, false, 'a stuck loop is');
    h.peer.faults.clear();
    assert.equal(await poller.pollOnce(), 'unchanged');
    assert.equal(poller.failures, 0);
    assert.equal(poller.nextDelay(), 900_000 + 30_000, 'back to interval + jitter');
  });

  it('honours Retry-After in seconds (429)', async function () {
    await poller.pollOnce();
    h.peer.faults.add({ kind: 'rate-limit', retryAfterSeconds: 120 });
    assert.equal(await poller.pollOnce(), 'failed');
    assert.equal(poller.nextDelay(), 120_000);
    assert.equal(poller.lastError?.code, 'CLOUD_ERROR');
  });

  it('a cloud that answers but fails for longer than 2 poll intervals makes /v1/healthy unhealthy, with the reason', async function () {
    await poller.pollOnce();
    h.peer.faults.add({ kind: 'status', status: 500, times: 1 });
    await clock.advance(2 * settings.pollIntervalMs + 1);
    assert.equal(await poller.pollOnce(), 'failed');
    const [polling] = cloudHealthChecks({
      clock,
      pollIntervalMs: () => settings.pollIntervalMs,
      poller: () => poller,
      apply: new ApplyProgressWatch(clock),
    });
    const result = polling?.run();
    assert.equal(result?.healthy, false);
    assert.match(result?.reason ?? '', /no successful target state poll for \d+ s.*500/);
  });

  for (const kind of ['malformed-json', 'wrong-content-type', 'slow-body'] as const) {
    it(`${kind}: nothing of the answer is applied${kind === 'slow-body' ? ' (a slow body still arrives whole)' : ''}`, async function () {
      h.peer.faults.add(
        kind === 'slow-body' ? { kind, chunkDelayMs: 1, chunkBytes: 128 } : { kind },
      );
      const outcome = await poller.pollOnce();
      if (kind === 'slow-body') {
        assert.equal(outcome, 'accepted');
        return;
      }
      assert.equal(outcome, 'failed');
      assert.equal(poller.lastError?.code, 'CLOUD_BAD_ANSWER');
      assert.equal(await h.targets.load(), undefined);
      assert.equal(reconciler.applies.length, 0);
    });
  }

  it('a request the cloud never answers times out as unreachable', async function () {
    const impatient = new CloudClient({
      endpoint: h.peer.url,
      rootCaBase64: h.peer.balenaRootCA,
      timeoutMs: 300,
    });
    try {
      poller = makePoller(impatient);
      h.peer.faults.add({ kind: 'timeout' });
      assert.equal(await poller.pollOnce(), 'failed');
      assert.equal(poller.lastError?.code, 'CLOUD_UNREACHABLE');
      assert.match(poller.lastError?.message ?? '', /no answer within 300 ms/);
    } finally {
      impatient.close();
    }
  });

  it('POST /v1/update wakes the loop at once; the first poll of a restarted device is jittered', async function () {
    const controller = new AbortController();
    await h.targets.save({ name: 'x', config: {}, apps: {} });
    const running = poller.run(controller.signal).catch(() => undefined);
    await clock.advance(0);
    assert.deepEqual(clock.pendingSleeps(), [30_000], 'first poll after random × jitter window');
    poller.pollNow({ force: false });
    assert.equal(await waitUntil(() => poller.lastOutcome, 'the woken poll'), 'accepted');
    controller.abort();
    await running;
  });
});
