/** Provisioning against the cloud peer (docs/protocol.md#provisioning, openBalena v49 rules). */
import assert from 'node:assert/strict';
import { provisionDevice } from '../../../src/cloud/provision.js';
import { ConfigJsonFile } from '../../../src/config/config-json-file.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { systemClock } from '../../../src/shared/clock.js';
import { ManualClock } from '../../unit/reconciler/support/manual-clock.js';
import { waitUntil } from '../../support/cloud-peer/wait.js';
import { startHarness, type CloudHarness } from './support/cloud-harness.js';

const facts = () =>
  Promise.resolve({
    deviceType: 'generic-amd64',
    supervisorVersion: '0.1.0',
    osVersion: 'Debian GNU/Linux 12 (bookworm)',
    osVariant: undefined,
    macAddress: '02:42:AC:11:00:02',
  });

describe('cloud provisioning against the peer', function () {
  let h: CloudHarness;
  afterEach(async () => h.close());

  const provision = (clock = systemClock, extra: { facts?: typeof facts } = {}) =>
    provisionDevice({
      client: h.client,
      config: h.config,
      facts: extra.facts ?? facts,
      clock,
      logger: silentLogger(),
      retryBaseMs: 1_000,
    });

  it('first boot: registers with the key it wrote before asking, then drops the provisioning key', async function () {
    h = await startHarness();
    const { uuid, deviceApiKey } = h.config.value;
    const id = await provision();
    const device = h.peer.device(uuid);
    assert.ok(device, 'the cloud has the device');
    assert.equal(device.id, id);
    assert.ok(device.keys.has(deviceApiKey), 'registered with the key config.json already held');
    assert.equal(device.fields['mac_address'], '02:42:AC:11:00:02');
    assert.equal(h.config.value.deviceId, id);
    assert.equal(typeof h.config.value.registered_at, 'number');
    assert.equal(h.config.value.apiKey, undefined, 'provisioning key removed');
    assert.equal(h.config.value.applicationId, 1, 'other keys kept');
    const reread = await ConfigJsonFile.open(h.dir.file('config.json'), silentLogger());
    assert.equal(reread.value.deviceId, id, 'written to disk');
  });

  it('a crash between key generation and registration: the persisted key registers after restart', async function () {
    h = await startHarness();
    // The first start wrote uuid + deviceApiKey, then died before POST /device/register.
    const { uuid, deviceApiKey } = h.config.value;
    const restarted = await ConfigJsonFile.open(h.dir.file('config.json'), silentLogger());
    assert.equal(restarted.value.deviceApiKey, deviceApiKey);
    h.config = restarted;
    await provision();
    assert.ok(h.peer.device(uuid)?.keys.has(deviceApiKey));
  });

  it('409 after a crash once the cloud had registered it: the device key works, so it goes on', async function () {
    h = await startHarness();
    const { uuid, deviceApiKey } = h.config.value;
    const existing = h.peer.model.register(uuid, 'generic-amd64', deviceApiKey);
    const id = await provision();
    assert.equal(id, existing.id);
    assert.equal(h.config.value.uuid, uuid, 'same identity');
    assert.equal(h.config.value.apiKey, undefined);
    const registers = h.peer.requests.filter((r) => r.path === '/device/register');
    assert.deepEqual(
      registers.map((r) => r.status),
      [409],
    );
  });

  it('409 with a key the cloud does not accept: exchange refused (v49), so a new identity registers', async function () {
    h = await startHarness();
    const { uuid } = h.config.value;
    h.peer.model.register(uuid, 'generic-amd64', 'someone-elses-key-0123456789abcd');
    const clock = new ManualClock(Date.now());
    const done = provision(clock);
    await waitUntil(
      () => clock.pendingSleeps().length === 1,
      'a retry after taking a new identity',
    );
    assert.notEqual(h.config.value.uuid, uuid, 'new uuid');
    await clock.advance(clock.pendingSleeps()[0] ?? 0);
    const id = await done;
    const device = h.peer.device(h.config.value.uuid);
    assert.equal(device?.id, id);
    assert.ok(device?.keys.has(h.config.value.deviceApiKey));
    // The exchange was tried with the provisioning key and refused, as v49 does.
    assert.ok(h.peer.requests.some((r) => r.path === '/v7/device' && r.status === 401));
  });

  for (const [name, setup, message] of [
    [
      '401: a provisioning key the cloud refuses',
      { apiKey: 'not-the-fleet-key-0123456789abcd' },
      /provisioning key/,
    ],
    ['an unknown device type', {}, /Unknown device type no-such-board/],
  ] as const) {
    it(`${name}: a stable PROVISIONING_REJECTED, retried only hourly`, async function () {
      h = await startHarness({ configJson: setup });
      const clock = new ManualClock(Date.now());
      const logged: string[] = [];
      const logger = silentLogger();
      const capture = {
        ...logger,
        child: () => ({
          ...logger,
          error: (_e: string, f?: Record<string, unknown>) => logged.push(String(f?.['message'])),
        }),
      } as unknown as typeof logger;
      void provisionDevice({
        client: h.client,
        config: h.config,
        facts: name.startsWith('an unknown')
          ? () => facts().then((f) => ({ ...f, deviceType: 'no-such-board' }))
          : facts,
        clock,
        logger: capture,
        retryBaseMs: 1_000,
      });
      await waitUntil(() => clock.pendingSleeps().length === 1, 'the wait after the rejection');
      assert.equal(clock.pendingSleeps()[0], 3_600_000, 'no busy loop: an hour');
      assert.match(logged.join('\n'), message);
      assert.equal(h.peer.requests.filter((r) => r.path === '/device/register').length, 1);
      assert.equal(h.config.value.registered_at, undefined);
      assert.ok(h.config.value.apiKey !== undefined, 'provisioning key kept');
    });
  }

  it('cloud down at first boot: retries with doubling backoff, registers once it answers', async function () {
    h = await startHarness();
    h.peer.faults.add({ kind: 'reset', path: /^\/device\/register$/, times: 2 });
    h.peer.faults.add({ kind: 'status', status: 503, path: /^\/device\/register$/ });
    const clock = new ManualClock(Date.now());
    const done = provision(clock);
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      await waitUntil(() => clock.pendingSleeps().length === 1, `retry ${i + 1}`);
      const delay = clock.pendingSleeps()[0] ?? 0;
      delays.push(delay);
      await clock.advance(delay);
    }
    assert.deepEqual(delays, [1_000, 2_000, 4_000]);
    const id = await done;
    assert.equal(h.peer.device(h.config.value.uuid)?.id, id);
  });

  it('writes config.json atomically, keeping keys it does not know', async function () {
    h = await startHarness({ configJson: { vendorKey: { nested: true } } });
    await provision();
    const reread = await ConfigJsonFile.open(h.dir.file('config.json'), silentLogger());
    assert.deepEqual((reread.value as Record<string, unknown>)['vendorKey'], { nested: true });
  });
});
