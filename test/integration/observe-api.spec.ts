/**
 * The dashboard's files and /metrics through the real HTTP API (express, SQLite keys) in managed mode:
 * who may read them, the page's security headers and weight, and the request counter by route template.
 */
import assert from 'node:assert/strict';
import { wireObservability } from '../../src/observability/wiring.js';
import { systemClock } from '../../src/shared/clock.js';
import { call, startHarness, type Harness } from './api-harness.js';

describe('dashboard files and /metrics over HTTP', function () {
  this.timeout(30_000);
  let h: Harness;
  let appKey = '';

  before(async () => {
    h = await startHarness({}, ({ reconciler }) => {
      const observability = wireObservability({
        version: '0.1.0',
        localMode: false,
        clock: systemClock,
        snapshot: () => reconciler.snapshot(),
        device: () =>
          Promise.resolve({
            name: 'my-device',
            uuid: 'u1',
            deviceType: 'genericx86-64-ext',
            os: 'Debian',
            version: '0.1.0',
            mode: 'cloud',
            connectivity: 'cloud: not connected',
            ipAddresses: [],
          }),
      });
      return {
        metrics: () => observability.metrics.render(),
        observeRequest: (r) => observability.metrics.apiRequest(r),
        dashboard: {
          port: {
            view: async () => {
              const options = await observability.apiOptions();
              return options.dashboard!.port.view();
            },
            logs: () => undefined,
          },
          assets: { html: '', js: '', css: '' },
        },
      };
    });
    appKey = await h.store.apiKeys.appKey(1, 'main');
  });
  after(() => h.close());

  it('needs the device-wide key in managed mode: none is refused, an app-scoped key too', async () => {
    for (const path of ['/dashboard/state', '/metrics']) {
      assert.equal((await call(h, 'GET', path)).status, 401, path);
      // Refused either as unknown (the harness's target may not hold app 1: its key is revoked) or
      // as not device-wide: never served.
      assert.ok([401, 403].includes((await call(h, 'GET', path, { key: appKey })).status), path);
      assert.equal(
        (await call(h, 'GET', path, { header: `Bearer ${h.globalKey}` })).status,
        200,
        path,
      );
    }
    const state = await call(h, 'GET', '/dashboard/state', { header: `Bearer ${h.globalKey}` });
    assert.equal(state.json.device.name, 'my-device');
    assert.equal(typeof state.json.summary, 'string');
  });

  it('counts API requests by route template and status, never by raw path', async () => {
    await call(h, 'GET', '/v2/applications/12345/state', { key: h.globalKey });
    const metrics = await call(h, 'GET', '/metrics', { header: `Bearer ${h.globalKey}` });
    assert.match(metrics.contentType, /^text\/plain/);
    assert.match(
      metrics.text,
      /bosun_api_requests_total\{route="\/metrics",method="GET",status="401"\} \d+/,
    );
    assert.match(metrics.text, /route="\/v2\/applications\/:appId\/state"/);
    assert.doesNotMatch(metrics.text, /12345/);
    assert.match(metrics.text, /process_resident_memory_bytes/);
  });
});

describe('dashboard page files', function () {
  this.timeout(30_000);
  let h: Harness;

  before(async () => {
    const { loadDashboardAssets } = await import('../../src/api/dashboard-assets.js');
    const assets = await loadDashboardAssets();
    h = await startHarness({}, () => ({
      dashboard: {
        port: { view: () => Promise.reject(new Error('not used')), logs: () => undefined },
        assets,
      },
    }));
  });
  after(() => h.close());

  it('serves page, script and style within 100 KB, from this origin only', async () => {
    const page = await call(h, 'GET', '/dashboard');
    assert.equal(page.status, 200);
    assert.match(page.contentType, /^text\/html/);
    const csp = (await fetch(`${h.url}/dashboard`)).headers;
    assert.match(csp.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/);
    assert.equal(csp.get('x-content-type-options'), 'nosniff');
    const script = await call(h, 'GET', '/dashboard/dashboard.js');
    const style = await call(h, 'GET', '/dashboard/dashboard.css');
    assert.match(script.contentType, /^text\/javascript/);
    assert.match(style.contentType, /^text\/css/);
    const bytes = [page, script, style].reduce((n, r) => n + Buffer.byteLength(r.text), 0);
    assert.ok(bytes <= 100 * 1024, `${bytes} bytes`);
    for (const r of [page, script, style]) assert.doesNotMatch(r.text, /https?:\/\//);
    const root = await fetch(`${h.url}/`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/dashboard');
  });
});
