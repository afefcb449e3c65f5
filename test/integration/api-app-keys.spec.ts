/**
 * Keys of removed apps (issue 8): an app-scoped key stops working through the API as soon as its app
 * leaves the target, its row is deleted when a target without the app is loaded, and an app that comes
 * back with the same id and service name gets a fresh key (the old one stays refused). Real HTTP, the
 * real Agent facade and a real SQLite store (api-harness.ts); the device is outside local mode, where
 * keys matter.
 */
import assert from 'node:assert/strict';
import { revokeKeysOfRemovedApps } from '../../src/agent/api-keys.js';
import { silentLogger } from '../../src/shared/logger.js';
import { APP_A, APP_B, app, release, service, target } from '../support/planner-builders.js';
import { requireDocker } from '../support/docker.js';
import { call, startHarness, type Harness } from './api-harness.js';

const relA = { app: APP_A, commit: 'commitaaaa', releaseId: 11 };
const relB = { app: APP_B, commit: 'commitbbbb', releaseId: 22 };
const withBoth = target(
  app(APP_A, release(relA, { services: [service(relA, 'main')] })),
  app(APP_B, release(relB, { services: [service(relB, 'web')] })),
);
const withoutA = target(app(APP_B, release(relB, { services: [service(relB, 'web')] })));

describe('API keys of removed apps', function () {
  this.timeout(30_000);
  let h: Harness;

  before(requireDocker);
  beforeEach(async () => {
    h = await startHarness();
    h.reconciler.set(withBoth);
  });
  afterEach(async () => h?.close());

  async function reaches(key: string): Promise<number> {
    return (await call(h, 'GET', `/v2/applications/${APP_A.appId}/state`, { key })).status;
  }

  it("a removed app's key is refused at once, on its own and on device-wide routes", async () => {
    const keyA = await h.store.apiKeys.appKey(APP_A.appId, 'main');
    assert.equal(await reaches(keyA), 200);
    assert.equal((await call(h, 'GET', '/v2/device/name', { key: keyA })).status, 200);

    h.reconciler.set(withoutA); // the app left the target (its row is still in the store)
    assert.equal(await reaches(keyA), 401);
    assert.equal((await call(h, 'GET', '/v2/device/name', { key: keyA })).status, 401);
    assert.equal((await call(h, 'POST', '/v1/reboot', { key: keyA, body: {} })).status, 401);
    assert.deepEqual(h.host.calls, []);
    // Other apps' keys and the device key keep working.
    const keyB = await h.store.apiKeys.appKey(APP_B.appId, 'web');
    assert.equal((await call(h, 'GET', '/v2/device/name', { key: keyB })).status, 200);
    assert.equal((await call(h, 'GET', '/v2/device/name', { key: h.globalKey })).status, 200);
  });

  it('loading a target without the app deletes its keys; when it comes back its key is rotated', async () => {
    const keyA = await h.store.apiKeys.appKey(APP_A.appId, 'main');
    const keyB = await h.store.apiKeys.appKey(APP_B.appId, 'web');
    assert.deepEqual(
      await revokeKeysOfRemovedApps(h.store.apiKeys, new Set([APP_B.appId]), silentLogger()),
      [APP_A.appId],
    );
    assert.equal(await h.store.apiKeys.find(keyA), undefined);
    assert.ok(await h.store.apiKeys.find(keyB));
    assert.ok(await h.store.apiKeys.find(h.globalKey), 'the device key must never be revoked');
    // Nothing else to revoke: no-op.
    assert.deepEqual(
      await revokeKeysOfRemovedApps(h.store.apiKeys, new Set([APP_B.appId]), silentLogger()),
      [],
    );

    // The app comes back with the same id and service name.
    h.reconciler.set(withBoth);
    const fresh = await h.store.apiKeys.appKey(APP_A.appId, 'main');
    assert.notEqual(fresh, keyA);
    assert.equal(await reaches(keyA), 401, 'the old key of a returning app must stay dead');
    assert.equal(await reaches(fresh), 200);
  });
});
