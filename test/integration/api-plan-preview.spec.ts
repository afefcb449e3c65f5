/**
 * POST /v2/plan over real HTTP (api-harness.ts), with the real Reconciler (real planner) over the real
 * Docker engine and a real SQLite store: the answer validates against the route's own OpenAPI schema
 * (ajv, JSON Schema 2020-12), it shows what an apply would do (steps with reasons and dependencies,
 * blockers, downloads with their estimated sizes), and calling it changes nothing: the engine's containers,
 * networks, volumes and images and the store's target, commits, images and API keys are the same
 * before and after, and the engine reports no event for this run's objects in between. Authenticated
 * like the rest of the API; a bad target is a 400 naming the JSON path.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { planPreviewEndpoint } from '../../src/agent/plan-preview.js';
import { HostUpdateLocks } from '../../src/device/locks.js';
import { parseTargetDevice } from '../../src/domain/target/index.js';
import type { Reconciler } from '../../src/reconciler/reconciler.js';
import { createReconciler } from '../../src/reconciler/wiring.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { Store } from '../../src/store/ports.js';
import {
  cleanupByLabel,
  requireDocker,
  TEST_LABEL,
  testDocker,
  uniquePrefix,
} from '../support/docker.js';
import { TEST_IMAGES } from '../support/images.js';
import { requireRegistries } from '../support/registry.js';
import { makeTempDir } from '../support/store-temp.js';
import { localTargetBody, type LocalService } from '../support/local-target-body.js';
import { context } from '../unit/domain/helpers.js';
import { call, startHarness, type Harness } from './api-harness.js';

const DEVICE = 'plan-dev';

describe('POST /v2/plan: the plan preview on the real engine', function () {
  this.timeout(180_000);
  const prefix = uniquePrefix('api-plan');
  const appId = 70_000 + Math.floor(Math.random() * 20_000);
  const dir = makeTempDir('bosun-test-plan-');
  const ctx = context({ deviceName: DEVICE, source: 'local', lockRoot: join(dir.path, 'locks') });
  let h: Harness;
  let reconciler: Reconciler;
  let store: Store;

  const body = (commit: string, releaseId: number, services: LocalService[], config = {}) => {
    const b = localTargetBody(prefix, appId, commit, releaseId, TEST_IMAGES.busybox, services) as {
      local: { config: Record<string, string>; apps: Record<string, { services: object }> };
    };
    b.local.config = config;
    return b;
  };
  const release1: LocalService[] = [{ name: 'main', env: { N: '1' } }];

  /** Everything a preview must not change, on the engine (this run's objects) and in the store. */
  async function world(): Promise<unknown> {
    const docker = testDocker();
    const own = { label: [`${TEST_LABEL}=${prefix}`] };
    const containers = (await docker.listContainers({ all: true, filters: own }))
      .map((c) => ({
        id: c.Id,
        names: c.Names,
        state: c.State,
        created: c.Created,
        image: c.ImageID,
      }))
      .sort((a, b) => a.id.localeCompare(b.id));
    const networks = (await docker.listNetworks({ filters: own })).map((n) => n.Id).sort();
    const volumes = ((await docker.listVolumes({ filters: own })).Volumes ?? [])
      .map((v) => v.Name)
      .sort();
    const large = await docker
      .getImage(TEST_IMAGES.large)
      .inspect()
      .then(
        () => true,
        () => false,
      );
    return {
      containers,
      networks,
      volumes,
      large,
      target: await store.targets.load({ kind: 'local' }),
      commits: await store.commits.all(),
      images: await store.images.list(),
      keyApps: await store.apiKeys.appIdsWithKeys(),
      apiKey: await store.apiKeys.peekAppKey(appId, 'api'),
    };
  }

  /** Engine events for this run's containers, networks and volumes, and pulls of the large image. */
  async function eventsBetween(since: number, until: number): Promise<string[]> {
    const read = async (filters: Record<string, string[]>): Promise<string[]> => {
      const stream = await testDocker().getEvents({
        since,
        until,
        filters,
      });
      let text = '';
      for await (const chunk of stream) text += String(chunk);
      return text.split('\n').filter((l) => l.trim() !== '');
    };
    return [
      ...(await read({ label: [`${TEST_LABEL}=${prefix}`] })),
      ...(await read({ type: ['image'], image: [TEST_IMAGES.large] })),
    ];
  }

  before(async () => {
    await requireDocker();
    await requireRegistries();
    h = await startHarness(
      {},
      () => ({
        planPreview: planPreviewEndpoint(
          {
            normaliseContext: (appApiKey) => Promise.resolve({ ...ctx, appApiKey }),
            store,
            reconciler,
          },
          () => DEVICE,
        ),
      }),
      (parts) => {
        store = parts.store;
        const logger = silentLogger();
        ({ reconciler } = createReconciler({
          engine: parts.engine,
          store: parts.store,
          locks: new HostUpdateLocks({ root: join(dir.path, 'locks'), logger }),
          clock: systemClock,
          logger,
          scopeLabels: [`${TEST_LABEL}=${prefix}`],
          // The disk preflight's estimates are the preview's download sizes.
          storage: { reserveBytes: () => 0, dataRootPath: undefined },
          loadTarget: async () => {
            const stored = await parts.store.targets.load({ kind: 'local' });
            if (stored === undefined) return undefined;
            const doc = { name: stored.name, config: stored.config, apps: stored.apps };
            return parseTargetDevice(doc, { ...ctx, appApiKey: () => '' }).target;
          },
        }));
        return { reconciler };
      },
    );
    h.settings.localMode = true;
    reconciler.start();
    const pushed = await call(h, 'POST', '/v2/local/target-state', {
      body: body('one', 1, release1),
    });
    assert.equal(pushed.status, 200, pushed.text);
    for (let i = 0; i < 600; i++) {
      const status = await reconciler.whenSettled();
      if (
        status.phase === 'converged' &&
        status.apps[Object.keys(status.apps)[0] ?? '']?.currentCommit === 'one'
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const running = await testDocker().listContainers({
      filters: { label: [`${TEST_LABEL}=${prefix}`] },
    });
    assert.equal(running.length, 1, 'release one runs');
  });
  after(async () => {
    await reconciler?.stop();
    await h?.close();
    await cleanupByLabel(prefix);
    dir.remove();
  });

  it('previews a release switch with its reasons, dependencies and downloads, and changes nothing', async () => {
    const next = body('two', 2, [
      { name: 'main', env: { N: '2' } },
      { name: 'api', labels: { 'io.balena.features.supervisor-api': '1' } },
    ]);
    // The new service runs the large image: a download the preview must plan, never start.
    const services = Object.values(next.local.apps[String(appId)]!.services) as Array<{
      serviceName: string;
      image: string;
    }>;
    services.find((s) => s.serviceName === 'api')!.image = TEST_IMAGES.large;

    const before = await world();
    // Engine events have a one-second resolution: start counting after the last second of the install.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const since = Math.floor(Date.now() / 1000);
    const r = await call(h, 'POST', '/v2/plan', { body: next });
    assert.equal(r.status, 200, r.text);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // past the events' 1 s resolution
    const until = Math.ceil(Date.now() / 1000);
    assert.deepEqual(await world(), before, 'the engine and the store are unchanged');
    assert.deepEqual(await eventsBetween(since, until), [], 'the engine saw no change');

    const openapi = await call(h, 'GET', '/v2/openapi.json', { key: h.globalKey });
    const schema = openapi.json.paths['/v2/plan'].post.responses['200'].content['application/json']
      .schema as object;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const valid = ajv.validate(schema, r.json);
    assert.ok(valid, JSON.stringify(ajv.errors));

    const view = r.json as {
      target: string;
      converged: boolean;
      steps: Array<{
        id: string;
        kind: string;
        reason: string;
        dependsOn: string[];
        serviceName: string | null;
      }>;
      downloads: Array<{ image: string; bytes: number | null }>;
      downloadBytes: number | null;
      text: string;
    };
    assert.equal(view.target, 'given');
    assert.equal(view.converged, false);
    if (!(before as { large: boolean }).large) {
      // Three 12 MiB layers of random data the engine lacks (busybox's is there): estimated from the
      // registry's manifest, never pulled.
      assert.equal(view.downloads.length, 1);
      const [large] = view.downloads;
      assert.equal(large?.image, TEST_IMAGES.large);
      assert.ok(large?.bytes !== null && large.bytes >= 36 * 2 ** 20, JSON.stringify(large));
      assert.equal(view.downloadBytes, large?.bytes);
    }
    for (const s of view.steps) {
      assert.ok(s.reason.length > 0, s.id);
      for (const dep of s.dependsOn)
        assert.ok(
          view.steps.some((x) => x.id === dep),
          `${s.id} → ${dep}`,
        );
      assert.ok(view.text.includes(s.id), `${s.id} in the text`);
    }
    if ((before as { large: boolean }).large) {
      // Images are all there: main's container is replaced (stopped, removed, created, started).
      const main = view.steps.filter((s) => s.serviceName === 'main').map((s) => s.kind);
      for (const kind of ['stopContainer', 'removeContainer', 'createContainer', 'startContainer'])
        assert.ok(main.includes(kind), `${kind} in ${main.join(', ')}`);
    } else {
      // Download-then-kill: the release waits for its images, main keeps running meanwhile.
      assert.ok(view.steps.some((s) => s.kind === 'pullImage' && s.serviceName === 'api'));
      assert.ok(!view.steps.some((s) => s.kind === 'stopContainer'));
    }
  });

  it('with no body it previews the stored target (converged here), and the window shows as blockers', async () => {
    const stored = await call(h, 'POST', '/v2/plan', {});
    assert.equal(stored.status, 200, stored.text);
    assert.equal(stored.json.target, 'stored');
    assert.equal(stored.json.converged, true);
    assert.equal(stored.json.text, '(converged)\n');

    // A config change with a window that is closed now: the recreate waits, until its opening.
    const now = new Date();
    const hhmm = (d: Date): string =>
      `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
    const window = `${hhmm(new Date(now.getTime() + 2 * 3_600_000))}-${hhmm(new Date(now.getTime() + 3 * 3_600_000))}`;
    const held = await call(h, 'POST', '/v2/plan', {
      body: body('one', 1, [{ name: 'main', env: { N: 'changed' } }], {
        SUPERVISOR_UPDATE_WINDOW: window,
        SUPERVISOR_UPDATE_WINDOW_TIMEZONE: 'UTC',
      }),
    });
    assert.equal(held.status, 200, held.text);
    assert.deepEqual(
      held.json.blockers.map((b: { kind: string; serviceName: string }) => [b.kind, b.serviceName]),
      [['outsideUpdateWindow', 'main']],
    );
    const until = held.json.blockers[0].until as number;
    assert.ok(until > now.getTime() && until <= now.getTime() + 2 * 3_600_000, String(until));
    assert.ok(!held.json.steps.some((s: { kind: string }) => s.kind === 'stopContainer'));
  });

  it('refuses a bad target with a 400 naming the JSON path, and stores nothing', async () => {
    const before = await world();
    const bad = body('three', 3, release1);
    (bad.local.apps[String(appId)]!.services as Record<string, { image: unknown }>)['1']!.image = 5;
    const r = await call(h, 'POST', '/v2/plan', { body: bad });
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.message, /local\.apps\.\d+\.services\.1\.image/);
    const two = await call(h, 'POST', '/v2/plan', { body: { a: {}, b: {} } });
    assert.equal(two.status, 400, two.text);
    assert.deepEqual(await world(), before);
  });

  it('is authenticated like the rest of the API outside local mode', async () => {
    h.settings.localMode = false;
    try {
      assert.equal((await call(h, 'POST', '/v2/plan', {})).status, 401);
      const appKey = await h.store.apiKeys.appKey(appId, 'main');
      assert.equal((await call(h, 'POST', '/v2/plan', { key: appKey })).status, 403);
      const ok = await call(h, 'POST', '/v2/plan', { key: h.globalKey });
      assert.equal(ok.status, 200, ok.text);
    } finally {
      h.settings.localMode = true;
    }
  });
});
