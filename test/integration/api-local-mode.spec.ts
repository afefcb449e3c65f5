/**
 * The open local API in local mode (issue 9), as a table over the route list of src/api: in local mode
 * every route answers without a key exactly as it answers a device-wide key outside local mode; outside
 * local mode every non-public route needs a key; in both modes a browser request from another origin is
 * refused before any handler runs. The mode is flipped between requests on the same running API, which
 * also shows it is read per request (local mode becomes switchable at run time).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { apiRoutes } from '../../src/api/app.js';
import type { RouteDef } from '../../src/api/route.js';
import {
  APP_A,
  app,
  containerFor,
  emptyCurrent,
  image,
  release,
  service,
  target,
} from '../support/planner-builders.js';
import { requireDocker } from '../support/docker.js';
import { startHarness, type Harness } from './api-harness.js';

const relA = { app: APP_A, commit: 'commitaaaa', releaseId: 11 };
const mainA = service(relA, 'main');

/** A body each body route accepts (the schema's smallest valid input that acts on app A). */
const SAMPLE_BODIES: Record<string, unknown> = {
  'post /v1/restart': { appId: APP_A.appId },
  'post /v1/purge': { appId: APP_A.appId },
  'post /v2/local/target-state': { local: { name: 'my-device', config: {}, apps: {} } },
  'post /v2/journal-logs': { count: 1 },
  'patch /v2/device/tags': { a: 'b' },
  'patch /v1/device/host-config': { network: { hostname: 'bosun-dev' } },
};

/** Routes whose answer depends on the mode or on the key itself, not only on being let in. */
const MODE_DEPENDENT: Record<string, string> = {
  'post /v1/regenerate-api-key':
    'regenerates the presented key; without one there is none to replace',
  'post /v2/local/target-state': 'refused outside local mode by design (NOT_IN_LOCAL_MODE)',
};

function keyOf(route: RouteDef): string {
  return `${route.method} ${route.path}`;
}

function request(
  h: Harness,
  route: RouteDef,
  options: { key?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; contentType: string; text: string }> {
  const path =
    route.path.replace(':appId', String(APP_A.appId)) +
    (options.key === undefined ? '' : `?apikey=${options.key}`);
  const body =
    route.body === undefined ? undefined : JSON.stringify(SAMPLE_BODIES[keyOf(route)] ?? {});
  const url = new URL(h.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: route.method.toUpperCase(),
        path,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('local API: open in local mode, keyed outside it (table over the route list)', function () {
  this.timeout(60_000);
  let h: Harness;
  // Local-mode journal reading and streams are exercised elsewhere; /v2/local/logs is not mounted here.
  const routes = apiRoutes();

  before(async () => {
    await requireDocker();
    const real = await startHarness();
    await real.close();
    h = await startHarness({
      // GET /v2/cleanup-volumes goes to the (recording) reconciler as a plan request: nothing on this
      // shared engine is touched.
      engine: {
        inspectContainer: (id) => real.engine.inspectContainer(id),
        listContainers: () => real.engine.listContainers(),
      },
    });
  });
  after(async () => h?.close());

  beforeEach(() => {
    const current = emptyCurrent();
    h.reconciler.set(target(app(APP_A, release(relA, { services: [mainA] }))), {
      ...current,
      containers: [containerFor(APP_A, mainA)],
      images: [image(mainA.image)],
      commits: { [APP_A.uuid]: relA.commit },
    });
  });

  it('the route list is the whole API (every route of src/api is in the table)', () => {
    assert.ok(routes.length >= 30, `only ${routes.length} routes`);
    for (const route of routes) {
      if (route.body !== undefined && route.method !== 'post')
        assert.ok(SAMPLE_BODIES[keyOf(route)], `no sample body for ${keyOf(route)}`);
    }
  });

  it('outside local mode every non-public route answers 401 without a key', async () => {
    h.settings.localMode = false;
    for (const route of routes) {
      const r = await request(h, route);
      // Public routes never ask for a key (the dashboard's `/` redirects; its pages answer 503 in this
      // harness, which mounts no dashboard).
      if (route.auth === 'public')
        assert.ok(r.status !== 401 && r.status !== 403, `${keyOf(route)}: ${r.status} ${r.text}`);
      else {
        assert.equal(r.status, 401, `${keyOf(route)}: ${r.text}`);
        assert.match(r.contentType, /application\/json/, keyOf(route));
      }
    }
  });

  it('in local mode every route answers without a key, as it answers the device key outside local mode', async () => {
    const answers: string[] = [];
    for (const route of routes) {
      h.settings.localMode = false;
      const keyed =
        MODE_DEPENDENT[keyOf(route)] === undefined
          ? await request(h, route, { key: h.globalKey })
          : undefined;
      h.settings.localMode = true;
      const open = await request(h, route);
      answers.push(`${keyOf(route)} → ${open.status}`);
      assert.notEqual(open.status, 401, `${keyOf(route)}: ${open.text}`);
      assert.notEqual(open.status, 403, `${keyOf(route)}: ${open.text}`);
      if (keyed !== undefined)
        assert.equal(open.status, keyed.status, `${keyOf(route)}: ${open.text} vs ${keyed.text}`);
    }
    // The routes that need nothing but being let in answer success.
    for (const path of ['/v2/applications/state', '/v1/device', '/v2/device/name', '/v1/blink'])
      assert.ok(
        answers.some((a) => a.includes(` ${path} → 2`)),
        `${path}: ${answers.join('; ')}`,
      );
  });

  it('in both modes a browser request from another origin is refused on every route, before its handler', async () => {
    for (const localMode of [true, false]) {
      h.settings.localMode = localMode;
      const before = {
        applies: h.reconciler.applies.length,
        intermediates: h.reconciler.intermediates.length,
        host: h.host.calls.length,
      };
      const browsers: Array<Record<string, string>> = [
        { origin: 'http://evil.example.com' },
        { 'sec-fetch-site': 'cross-site' },
      ];
      for (const route of routes) {
        for (const headers of browsers) {
          const r = await request(h, route, { key: h.globalKey, headers });
          assert.equal(r.status, 403, `${localMode} ${keyOf(route)} ${JSON.stringify(headers)}`);
          assert.match(r.text, /other web origins/);
        }
      }
      assert.equal(h.reconciler.applies.length, before.applies);
      assert.equal(h.reconciler.intermediates.length, before.intermediates);
      assert.equal(h.host.calls.length, before.host);
    }
  });
});
