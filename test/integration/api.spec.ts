/**
 * The local API over real HTTP: the real Agent facade, a real SQLite store and the real Docker engine
 * (see api-harness.ts for the one recorded port). Checks shapes, status codes, the auth matrix, bad
 * input, and that rejected input changes nothing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { apiRoutes } from '../../src/api/app.js';
import {
  APP_A,
  APP_B,
  app,
  containerFor,
  emptyCurrent,
  image,
  release,
  service,
  target,
} from '../support/planner-builders.js';
import { requireDocker, TEST_LABEL, uniquePrefix } from '../support/docker.js';
import { TEST_IMAGES } from '../support/images.js';
import { call, startHarness, type Harness } from './api-harness.js';

const relA = { app: APP_A, commit: 'commitaaaa', releaseId: 11 };
const relB = { app: APP_B, commit: 'commitbbbb', releaseId: 22 };
const mainA = service(relA, 'main');
const webB = service(relB, 'web');
const workerB = service(relB, 'worker');

function runningDevice(h: Harness): void {
  const current = emptyCurrent();
  h.reconciler.set(
    target(
      app(APP_A, release(relA, { services: [mainA] })),
      app(APP_B, release(relB, { services: [webB, workerB] })),
    ),
    {
      ...current,
      containers: [
        containerFor(APP_A, mainA),
        containerFor(APP_B, webB),
        containerFor(APP_B, workerB),
      ],
      images: [image(mainA.image), image(webB.image), image(workerB.image)],
      commits: { [APP_A.uuid]: relA.commit, [APP_B.uuid]: relB.commit },
    },
  );
}

function withUserLock(h: Harness, appId: number, serviceName: string): void {
  const snap = h.reconciler.snapshot();
  h.reconciler.set(snap.target, {
    ...snap.current!,
    locks: [{ appId, serviceName, heldBy: 'user' }],
  });
}

const CLI_BODY = {
  local: {
    name: 'my-device',
    config: { HOST_CONFIG_foo: 'bar' },
    apps: {
      '1': {
        name: 'localapp',
        commit: '10ca12e1ea5e',
        releaseId: '1',
        services: {
          '1': {
            environment: { GREETING: 'hello' },
            labels: { 'io.balena.features.supervisor-api': '1' },
            ports: ['8080:80'],
            imageId: 1,
            serviceName: 'web',
            serviceId: 1,
            image: 'local_web',
            running: true,
          },
          '2': {
            environment: {},
            labels: {},
            depends_on: ['web'],
            restart: 'always',
            volumes: ['data:/data'],
            imageId: 2,
            serviceName: 'worker',
            serviceId: 2,
            image: 'local_worker',
            running: true,
          },
        },
        volumes: { data: {} },
        networks: {},
      },
    },
  },
};

/** journalctl processes that are children of this test process (the server runs in it). */
async function journalChildren(): Promise<string[]> {
  const tasks = await readdir(`/proc/${process.pid}/task`);
  const pids = (
    await Promise.all(
      tasks.map((t) => readFile(`/proc/${process.pid}/task/${t}/children`, 'utf8').catch(() => '')),
    )
  )
    .join(' ')
    .split(/\s+/)
    .filter(Boolean);
  const comms = await Promise.all(
    pids.map(
      async (pid) =>
        [pid, (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim()] as const,
    ),
  );
  return comms.filter(([, comm]) => comm === 'journalctl').map(([pid]) => pid);
}

describe('local API over HTTP', function () {
  let h: Harness;
  let keyA: string;
  beforeEach(async () => {
    h = await startHarness();
    keyA = await h.store.apiKeys.appKey(APP_A.appId, 'main');
    runningDevice(h);
  });
  afterEach(async () => {
    await h.close();
  });

  describe('unauthenticated health', () => {
    it('GET /ping answers text OK', async () => {
      const r = await call(h, 'GET', '/ping');
      assert.equal(r.status, 200);
      assert.equal(r.text, 'OK');
      assert.match(r.contentType, /text\/plain/);
    });

    it('GET /v1/healthy answers 200, then 500 with the reason when a check fails', async () => {
      assert.equal((await call(h, 'GET', '/v1/healthy')).status, 200);
      h.health.healthy = false;
      h.health.reason = 'no target fetched for 31 minutes';
      const r = await call(h, 'GET', '/v1/healthy');
      assert.equal(r.status, 500);
      assert.equal(r.json.status, 'failed');
      assert.deepEqual(r.json.reasons, ['test: no target fetched for 31 minutes']);
    });
  });

  describe('authentication matrix', () => {
    it('no key and unknown keys get 401 JSON; the global key passes by query and by header', async () => {
      const none = await call(h, 'GET', '/v2/applications/state');
      assert.equal(none.status, 401);
      assert.equal(none.json.status, 'failed');
      assert.equal(
        (await call(h, 'GET', '/v2/applications/state', { key: 'f'.repeat(32) })).status,
        401,
      );
      assert.equal(
        (await call(h, 'GET', '/v2/applications/state', { header: `Bearer ${'0'.repeat(32)}` }))
          .status,
        401,
      );
      assert.equal(
        (await call(h, 'GET', '/v2/applications/state', { key: h.globalKey })).status,
        200,
      );
      assert.equal(
        (await call(h, 'GET', '/v2/applications/state', { header: `Bearer ${h.globalKey}` }))
          .status,
        200,
      );
      assert.equal(
        (await call(h, 'GET', '/v2/applications/state', { header: `apikey ${h.globalKey}` }))
          .status,
        200,
      );
      assert.equal(
        (await call(h, 'GET', '/v2/applications/state', { header: `Basic ${h.globalKey}` })).status,
        401,
      );
    });

    it('a scoped key sees and acts on its own app only (403 for another app)', async () => {
      const list = await call(h, 'GET', '/v2/applications/state', { key: keyA });
      assert.deepEqual(Object.keys(list.json), ['app-aaaa']);
      assert.equal(
        (await call(h, 'GET', `/v2/applications/${APP_A.appId}/state`, { key: keyA })).status,
        200,
      );
      const other = await call(h, 'POST', '/v1/restart', {
        key: keyA,
        body: { appId: APP_B.appId },
      });
      assert.equal(other.status, 403);
      assert.match(other.json.message, /not allowed to act on application 2/);
      assert.equal(h.reconciler.intermediates.length, 0);
      assert.equal(
        (await call(h, 'POST', '/v1/restart', { key: keyA, body: { appId: APP_A.appId } })).status,
        200,
      );
    });

    it('local mode opens the routes balena-cli calls (and every other: api-local-mode.spec.ts), ignoring a cloud token', async () => {
      assert.equal((await call(h, 'GET', '/v2/version')).status, 401);
      h.settings.localMode = true;
      for (const path of [
        '/v2/version',
        '/v2/state/status',
        '/v2/containerId',
        '/v2/local/target-state',
        '/v2/local/device-info',
      ]) {
        assert.equal(
          (await call(h, 'GET', path, { header: 'Bearer a-balena-cloud-token' })).status,
          200,
          path,
        );
      }
      assert.equal((await call(h, 'GET', '/v2/applications/state')).status, 200);
    });

    it('regenerating a key retires the old one', async () => {
      const r = await call(h, 'POST', '/v1/regenerate-api-key', { key: keyA });
      assert.equal(r.status, 200);
      assert.match(r.text, /^[0-9a-f]{32}$/);
      assert.equal((await call(h, 'GET', '/v2/applications/state', { key: keyA })).status, 401);
      assert.equal((await call(h, 'GET', '/v2/applications/state', { key: r.text })).status, 200);
    });
  });

  describe('status', () => {
    it('GET /v2/applications/state is keyed by app name with per-service status', async () => {
      const r = await call(h, 'GET', '/v2/applications/state', { key: h.globalKey });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json['app-bbbb'], {
        appId: 2,
        appUuid: 'bbbb',
        commit: 'commitbbbb',
        updateStatus: 'done',
        services: {
          web: { status: 'Running', image: webB.image, releaseId: 22, downloadProgress: null },
          worker: {
            status: 'Running',
            image: workerB.image,
            releaseId: 22,
            downloadProgress: null,
          },
        },
      });
    });

    it('GET /v2/applications/:appId/state: legacy shape, 409 for an unknown app, 400 for a bad id', async () => {
      const r = await call(h, 'GET', '/v2/applications/1/state', { key: h.globalKey });
      assert.deepEqual(r.json, {
        commit: 'commitaaaa',
        local: {
          '1': {
            services: {
              [String(mainA.imageId)]: {
                status: 'Running',
                releaseId: 11,
                download_progress: null,
              },
            },
          },
        },
      });
      const unknown = await call(h, 'GET', '/v2/applications/77/state', { key: h.globalKey });
      assert.equal(unknown.status, 409);
      assert.equal(unknown.json.message, 'Application ID does not exist: 77');
      assert.equal(
        (await call(h, 'GET', '/v2/applications/x1/state', { key: h.globalKey })).status,
        400,
      );
    });

    it('GET /v2/state/status describes the first app with containers, with JSON content type', async () => {
      h.settings.localMode = true;
      const r = await call(h, 'GET', '/v2/state/status');
      assert.equal(r.status, 200);
      assert.match(r.contentType, /application\/json/);
      assert.equal(r.json.status, 'success');
      assert.equal(r.json.appState, 'applied');
      assert.equal(r.json.release, 'commitaaaa');
      assert.equal(r.json.overallDownloadProgress, null);
      assert.deepEqual(r.json.containers, [
        {
          status: 'Running',
          serviceName: 'main',
          appId: 1,
          imageId: mainA.imageId,
          serviceId: mainA.serviceId,
          containerId: `id-${mainA.containerName}`,
          createdAt: containerFor(APP_A, mainA).createdAt,
        },
      ]);
      assert.equal(r.json.images[0].status, 'Downloaded');
      assert.equal(r.json.images[0].name, mainA.image);
    });

    it('GET /v2/state/status reports applying and download progress while an image downloads', async () => {
      h.settings.localMode = true;
      h.reconciler.applying = true;
      const snap = h.reconciler.snapshot();
      h.reconciler.set(target(app(APP_A, release(relA, { services: [mainA] }))), {
        ...emptyCurrent(),
        downloads: [{ image: mainA.image, progress: 40 }],
      });
      assert.ok(snap);
      const r = await call(h, 'GET', '/v2/state/status');
      assert.equal(r.json.appState, 'applying');
      assert.equal(r.json.overallDownloadProgress, 40);
      assert.deepEqual(r.json.containers, []);
      assert.equal(r.json.images[0].status, 'Downloading');
    });

    it('GET /v2/containerId finds a service by name, lists all without a query, 404 for an unknown name', async () => {
      h.settings.localMode = true;
      const one = await call(h, 'GET', '/v2/containerId?serviceName=web');
      assert.deepEqual(one.json, { status: 'success', containerId: `id-${webB.containerName}` });
      assert.equal(
        (await call(h, 'GET', '/v2/containerId?service=worker')).json.containerId,
        `id-${workerB.containerName}`,
      );
      const all = await call(h, 'GET', '/v2/containerId');
      assert.deepEqual(Object.keys(all.json.services).sort(), ['main', 'web', 'worker']);
      const missing = await call(h, 'GET', '/v2/containerId?serviceName=nope');
      assert.equal(missing.status, 404);
      assert.equal(missing.json.status, 'failed');
    });

    it('GET /v1/device gives the legacy summary', async () => {
      const r = await call(h, 'GET', '/v1/device', { key: h.globalKey });
      assert.equal(r.json.api_port, 48484);
      assert.equal(r.json.ip_address, '192.168.1.20 10.42.0.1');
      assert.equal(r.json.status, 'Idle');
      assert.equal(r.json.commit, 'commitaaaa');
      assert.equal(r.json.update_pending, false);
    });
  });

  describe('version and device', () => {
    it('GET /v2/version reports a semver the CLI accepts (≥ 9.7.0) as JSON', async () => {
      const r = await call(h, 'GET', '/v2/version', { key: h.globalKey });
      assert.match(r.contentType, /application\/json/);
      assert.equal(r.json.status, 'success');
      const m = /^(\d+)\.(\d+)\.(\d+)(\+[0-9A-Za-z.-]+)?$/.exec(r.json.version);
      assert.ok(m, r.json.version);
      assert.ok(Number(m[1]) > 9 || (Number(m[1]) === 9 && Number(m[2]) >= 7));
      assert.match(r.json.version, /bosun\.0\.1\.0$/);
    });

    it('device name, info, vpn; tags need the cloud (503 without it); bad tags bodies are 400', async () => {
      assert.deepEqual((await call(h, 'GET', '/v2/device/name', { key: h.globalKey })).json, {
        status: 'success',
        deviceName: 'my-device',
      });
      h.settings.localMode = true;
      assert.deepEqual((await call(h, 'GET', '/v2/local/device-info')).json, {
        status: 'success',
        info: { arch: 'amd64', deviceType: 'genericx86-64-ext' },
      });
      assert.deepEqual((await call(h, 'GET', '/v2/device/vpn', { key: h.globalKey })).json, {
        status: 'success',
        vpn: { enabled: true, connected: false },
      });
      assert.equal((await call(h, 'GET', '/v2/device/tags', { key: h.globalKey })).status, 503);
      const spaces = await call(h, 'PATCH', '/v2/device/tags', {
        key: h.globalKey,
        body: { 'a b': 'x' },
      });
      assert.equal(spaces.status, 400);
      assert.match(spaces.json.message, /Tag keys cannot contain whitespace/);
      const notStrings = await call(h, 'PATCH', '/v2/device/tags', {
        key: h.globalKey,
        body: { a: 1 },
      });
      assert.equal(notStrings.status, 400);
      assert.match(notStrings.json.message, /Invalid tags body/);
    });

    it('host-config: read, patch hostname, refused while a user lock is held unless forced', async () => {
      assert.deepEqual(
        (await call(h, 'GET', '/v1/device/host-config', { key: h.globalKey })).json,
        { network: { hostname: 'bosun-dev' } },
      );
      assert.equal(
        (
          await call(h, 'PATCH', '/v1/device/host-config', {
            key: h.globalKey,
            body: { network: { hostname: 'new-name' } },
          })
        ).status,
        200,
      );
      assert.equal(h.device.name, 'new-name');
      withUserLock(h, APP_A.appId, 'main');
      const locked = await call(h, 'PATCH', '/v1/device/host-config', {
        key: h.globalKey,
        body: { network: { hostname: 'other' } },
      });
      assert.equal(locked.status, 423);
      assert.equal(h.device.name, 'new-name');
      const bad = await call(h, 'PATCH', '/v1/device/host-config', {
        key: h.globalKey,
        body: { network: { hostname: 'bad name!' } },
      });
      assert.equal(bad.status, 400);
      assert.match(bad.json.message, /body\.network\.hostname/);
    });
  });

  describe('actions go through the reconciler', () => {
    it('POST /v1/restart: services removed then restored as intermediate targets; 200 text OK', async () => {
      const r = await call(h, 'POST', '/v1/restart', { key: h.globalKey, body: { appId: 1 } });
      assert.equal(r.status, 200);
      assert.equal(r.text, 'OK');
      const [down, up] = h.reconciler.intermediates;
      assert.deepEqual(Object.keys(down!.target.apps[APP_A.uuid]!.release!.services), []);
      assert.deepEqual(Object.keys(down!.target.apps[APP_B.uuid]!.release!.services), [
        'web',
        'worker',
      ]);
      assert.deepEqual(Object.keys(up!.target.apps[APP_A.uuid]!.release!.services), ['main']);
    });

    it('an update lock answers 423 and applies nothing, unless forced', async () => {
      withUserLock(h, APP_A.appId, 'main');
      const r = await call(h, 'POST', '/v2/applications/1/restart', { key: h.globalKey, body: {} });
      assert.equal(r.status, 423);
      assert.equal(r.json.status, 'failed');
      assert.match(r.json.message, /lock/);
      assert.equal(h.reconciler.intermediates.length, 0);
      const forced = await call(h, 'POST', '/v2/applications/1/restart', {
        key: h.globalKey,
        body: { force: 'true' },
      });
      assert.equal(forced.status, 200);
      assert.equal(h.reconciler.intermediates[0]!.options.force, true);
    });

    it('POST /v1/purge removes the app with its volumes, then restores it; legacy {Data, Error}', async () => {
      const r = await call(h, 'POST', '/v1/purge', { key: h.globalKey, body: { appId: '2' } });
      assert.deepEqual(r.json, { Data: 'OK', Error: '' });
      const [down, up] = h.reconciler.intermediates;
      assert.equal(down!.target.apps[APP_B.uuid], undefined);
      assert.equal(down!.options.removeVolumes, true);
      assert.ok(up!.target.apps[APP_B.uuid]);
    });

    it('POST /v1/restart and /v1/purge without appId are 400 and apply nothing', async () => {
      const r = await call(h, 'POST', '/v1/restart', { key: h.globalKey, body: {} });
      assert.equal(r.status, 400);
      assert.equal(r.json.message, 'Missing app id');
      const wrongType = await call(h, 'POST', '/v1/purge', {
        key: h.globalKey,
        body: { appId: 'abc' },
      });
      assert.equal(wrongType.status, 400);
      assert.match(wrongType.json.message, /body\.appId/);
      assert.equal(h.reconciler.intermediates.length, 0);
    });

    it('v2 service actions: stop holds the service stopped; start releases it; bad selectors are 400/404', async () => {
      const stop = await call(h, 'POST', '/v2/applications/2/stop-service', {
        key: h.globalKey,
        body: { serviceName: 'web' },
      });
      assert.equal(stop.status, 200);
      assert.equal(stop.text, 'OK');
      assert.deepEqual(h.reconciler.held, [{ appUuid: 'bbbb', serviceName: 'web', stopped: true }]);
      assert.equal(
        h.reconciler.intermediates[0]!.target.apps[APP_B.uuid]!.release!.services['web']!.running,
        false,
      );
      await call(h, 'POST', '/v2/applications/2/start-service', {
        key: h.globalKey,
        body: { imageId: webB.imageId },
      });
      assert.deepEqual(h.reconciler.held[1], {
        appUuid: 'bbbb',
        serviceName: 'web',
        stopped: false,
      });
      const none = await call(h, 'POST', '/v2/applications/2/restart-service', {
        key: h.globalKey,
        body: {},
      });
      assert.equal(none.status, 400);
      const unknown = await call(h, 'POST', '/v2/applications/2/restart-service', {
        key: h.globalKey,
        body: { serviceName: 'nope' },
      });
      assert.equal(unknown.status, 404);
      const unknownApp = await call(h, 'POST', '/v2/applications/9/restart-service', {
        key: h.globalKey,
        body: { serviceName: 'web' },
      });
      assert.equal(unknownApp.status, 404);
      assert.equal(h.reconciler.intermediates.length, 2);
    });

    it('v1 stop/start answer {containerId}; multi-container apps are 400 on v1', async () => {
      const r = await call(h, 'POST', '/v1/apps/1/stop', { key: h.globalKey });
      assert.deepEqual(r.json, { containerId: `id-${mainA.containerName}` });
      const multi = await call(h, 'POST', '/v1/apps/2/start', { key: h.globalKey });
      assert.equal(multi.status, 400);
      assert.match(multi.json.message, /single-container/);
    });

    it('reboot: 202 {Data:"OK", Error:null} and the host reboots; a lock gives 423 in the same shape and no reboot', async () => {
      withUserLock(h, APP_B.appId, 'web');
      const locked = await call(h, 'POST', '/v1/reboot', { key: h.globalKey, body: {} });
      assert.equal(locked.status, 423);
      assert.equal(locked.json.Data, '');
      assert.match(locked.json.Error, /lock/);
      const r = await call(h, 'POST', '/v1/shutdown', { key: keyA, body: { force: true } });
      assert.equal(r.status, 202);
      assert.deepEqual(r.json, { Data: 'OK', Error: null });
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(h.host.calls, ['shutdown']);
    });

    it('POST /v1/update triggers (204), or is ignored (202) when instant updates are off and not forced', async () => {
      assert.equal((await call(h, 'POST', '/v1/update', { key: h.globalKey })).status, 204);
      assert.equal(h.reconciler.applies.length, 1);
    });

    it('a rejected promise in a handler answers (500 JSON), never hangs', async () => {
      h.reconciler.failWith = new Error('boom inside the reconciler');
      const r = await call(h, 'POST', '/v1/restart', { key: h.globalKey, body: { appId: 1 } });
      assert.equal(r.status, 500);
      assert.deepEqual(r.json, { status: 'failed', message: 'boom inside the reconciler' });
    });
  });

  describe('local mode target state', () => {
    it('POST outside local mode: 400 with the exact message; nothing stored', async () => {
      const r = await call(h, 'POST', '/v2/local/target-state', {
        key: h.globalKey,
        body: CLI_BODY,
      });
      assert.equal(r.status, 400);
      assert.deepEqual(r.json, {
        status: 'failed',
        message: 'Target state can only set when device is in local mode',
      });
      assert.equal(await h.store.targets.load({ kind: 'local' }), undefined);
    });

    it('the CLI round trip: GET, POST the body balena-cli sends, GET again', async () => {
      h.settings.localMode = true;
      const before = await call(h, 'GET', '/v2/local/target-state');
      assert.deepEqual(before.json, {
        status: 'success',
        state: { local: { name: 'my-device', config: { HOST_CONFIG_foo: 'bar' }, apps: {} } },
      });
      const r = await call(h, 'POST', '/v2/local/target-state', { body: CLI_BODY });
      assert.equal(r.status, 200);
      assert.match(r.contentType, /application\/json/);
      assert.deepEqual(r.json, { status: 'success', message: 'OK' });
      const stored = await h.store.targets.load({ kind: 'local' });
      assert.deepEqual(Object.keys(stored!.apps), ['1']);
      assert.deepEqual(h.reconciler.applies, [{ force: false }]);
      // Until the reconciler has planned with the new target, status must not say applied (the CLI stops there).
      assert.equal((await call(h, 'GET', '/v2/state/status')).json.appState, 'applying');
      h.reconciler.round();
      assert.equal((await call(h, 'GET', '/v2/state/status')).json.appState, 'applied');
      const after = await call(h, 'GET', '/v2/local/target-state');
      assert.equal(after.json.state.local.apps['1'].commit, '10ca12e1ea5e');
      assert.equal(after.json.state.local.apps['1'].services['2'].serviceName, 'worker');
    });

    it('an invalid body is 400 naming the JSON path, and nothing is stored or applied', async () => {
      h.settings.localMode = true;
      const bad = structuredClone(CLI_BODY) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      bad.local.apps['1'].services['1'].image = 42;
      const r = await call(h, 'POST', '/v2/local/target-state', { body: bad });
      assert.equal(r.status, 400);
      assert.match(r.json.message, /body\.local\.apps\.1\.services\.1\.image/);
      const badCompose = structuredClone(CLI_BODY) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      badCompose.local.apps['1'].services['1'].ports = 'not-a-list';
      const r2 = await call(h, 'POST', '/v2/local/target-state', { body: badCompose });
      assert.equal(r2.status, 400, r2.text);
      assert.equal(await h.store.targets.load({ kind: 'local' }), undefined);
      assert.deepEqual(h.reconciler.applies, []);
    });
  });

  describe('malformed requests', () => {
    it('malformed JSON is 400, an unknown route is 404 JSON', async () => {
      h.settings.localMode = true;
      const r = await call(h, 'POST', '/v2/local/target-state', { rawBody: '{"local": ' });
      assert.equal(r.status, 400);
      assert.match(r.json.message, /not valid JSON/);
      const missing = await call(h, 'GET', '/v3/nothing-here');
      assert.equal(missing.status, 404);
      assert.equal(missing.json.status, 'failed');
    });

    it('a body over 10 MB is 413 and changes nothing', async () => {
      h.settings.localMode = true;
      const huge = JSON.stringify({
        local: {
          name: 'x',
          config: { PAD: randomBytes(8).toString('hex').repeat(700_000) },
          apps: {},
        },
      });
      const r = await call(h, 'POST', '/v2/local/target-state', { rawBody: huge });
      assert.equal(r.status, 413);
      assert.equal(r.json.status, 'failed');
      assert.equal(await h.store.targets.load({ kind: 'local' }), undefined);
    });

    it('an unauthenticated huge body is refused with 401 before it is parsed', async () => {
      const r = await call(h, 'POST', '/v1/restart', {
        rawBody: JSON.stringify({ appId: 1, pad: 'x'.repeat(11 * 1024 * 1024) }),
      });
      assert.equal(r.status, 401);
    });
  });

  describe('OpenAPI', () => {
    it('GET /v2/openapi.json describes every route, from the request schemas', async () => {
      const r = await call(h, 'GET', '/v2/openapi.json', { key: h.globalKey });
      assert.equal(r.json.openapi, '3.1.0');
      for (const route of apiRoutes()) {
        const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
        assert.ok(r.json.paths[path]?.[route.method], `${route.method} ${path}`);
      }
      const post = r.json.paths['/v2/local/target-state'].post;
      assert.ok(post.requestBody.content['application/json'].schema.properties.local);
    });
  });

  describe('against the real engine', () => {
    before(async () => {
      await requireDocker();
    });

    it('GET /v1/apps/:appId reads the container env (API keys removed) and engine image from the engine', async () => {
      const prefix = uniquePrefix('api');
      const { id } = await h.engine.createContainer({
        name: `${prefix}-main`,
        Image: TEST_IMAGES.busybox,
        Cmd: ['sleep', '60'],
        Env: ['FOO=bar', 'BALENA_SUPERVISOR_API_KEY=secret', 'RESIN_SUPERVISOR_API_KEY=secret'],
        Labels: { [TEST_LABEL]: prefix },
        Tty: false,
        HostConfig: { NetworkMode: 'none', RestartPolicy: { Name: 'no' } },
      });
      try {
        const snap = h.reconciler.snapshot();
        const real = { ...containerFor(APP_A, mainA), id };
        h.reconciler.set(snap.target, {
          ...snap.current!,
          containers: [real, ...snap.current!.containers.filter((c) => c.appId !== 1)],
        });
        const r = await call(h, 'GET', '/v1/apps/1', { key: h.globalKey });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.containerId, id);
        assert.equal(r.json.env.FOO, 'bar');
        assert.equal(r.json.env.BALENA_SUPERVISOR_API_KEY, undefined);
        assert.equal(r.json.env.RESIN_SUPERVISOR_API_KEY, undefined);
        assert.equal(r.json.imageId, (await h.engine.inspectImage(TEST_IMAGES.busybox)).id);
        assert.equal(r.json.releaseId, 11);
        const multi = await call(h, 'GET', '/v1/apps/2', { key: h.globalKey });
        assert.equal(multi.status, 400);
      } finally {
        await h.engine.removeContainer(id, { force: true });
      }
    });

    it('GET /v2/cleanup-volumes asks the reconciler for a clean-up of the key’s app only', async () => {
      // What is removed is the planner's and the executor's (reconciler-side-channels.spec.ts, through
      // this route on the real engine); here: the route scopes the request by the key.
      const appId = 900_000 + Math.floor(Math.random() * 90_000);
      const scoped = await h.store.apiKeys.appKey(appId, 'main');
      // A scoped key works only while its app is in the target.
      h.reconciler.set(target(app({ uuid: `cleanup${appId}`, appId }, undefined)));
      const r = await call(h, 'GET', '/v2/cleanup-volumes', { key: scoped });
      assert.deepEqual(r.json, { status: 'success' });
      assert.equal(h.reconciler.volumeCleanups.at(-1), appId);
      const all = await call(h, 'GET', '/v2/cleanup-volumes', { key: h.globalKey });
      assert.deepEqual(all.json, { status: 'success' });
      assert.equal(h.reconciler.volumeCleanups.at(-1), undefined);
    });
  });

  describe('POST /v2/journal-logs (real journalctl)', () => {
    it('streams journalctl output with 200; bad options are 400 before anything runs', async () => {
      const r = await call(h, 'POST', '/v2/journal-logs', { key: h.globalKey, body: { count: 1 } });
      assert.equal(r.status, 200, r.text);
      assert.match(r.contentType, /text\/plain/);
      const badCount = await call(h, 'POST', '/v2/journal-logs', {
        key: h.globalKey,
        body: { count: 0 },
      });
      assert.equal(badCount.status, 400);
      assert.match(badCount.json.message, /body\.count/);
      const badFormat = await call(h, 'POST', '/v2/journal-logs', {
        key: h.globalKey,
        body: { format: 'html' },
      });
      assert.equal(badFormat.status, 400);
    });

    it('a journalctl failure (unparseable --since) is a JSON 400, not a broken stream', async () => {
      const r = await call(h, 'POST', '/v2/journal-logs', {
        key: h.globalKey,
        body: { since: 'not-a-date' },
      });
      assert.equal(r.status, 400, r.text);
      assert.match(r.json.message, /journalctl exited/);
    });

    it('follow answers 200 at once and ends journalctl when the client leaves', async () => {
      const abort = new AbortController();
      const res = await fetch(`${h.url}/v2/journal-logs?apikey=${h.globalKey}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ follow: true }),
        signal: abort.signal,
      });
      assert.equal(res.status, 200);
      assert.ok(
        (await journalChildren()).length > 0,
        'journalctl should be running while the client reads',
      );
      abort.abort();
      // The child is SIGKILLed once the server sees the client go; wait for that (bounded), not for a time.
      let left = await journalChildren();
      for (let i = 0; i < 200 && left.length > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        left = await journalChildren();
      }
      assert.deepEqual(left, []);
      // The server is still healthy afterwards (the aborted stream did not take it down).
      assert.equal((await call(h, 'GET', '/ping')).status, 200);
    });
  });
});
