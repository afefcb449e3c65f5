/**
 * Issue 8 input gaps through the real HTTP API (real Agent facade, SQLite store, Docker engine): deep
 * nesting, app id 0 and oversized targets are 400s naming what was wrong, and nothing is stored or
 * applied. Before the fix the nesting was a 500 and the others were stored.
 */
import assert from 'node:assert/strict';
import { requireDocker } from '../support/docker.js';
import { call, startHarness, type Harness } from './api-harness.js';

function body(
  apps: Record<string, unknown>,
  config: Record<string, string> = {},
): Record<string, unknown> {
  return { local: { name: 'dev', config, apps } };
}

function app(services: Record<string, Record<string, unknown>>): Record<string, unknown> {
  let n = 0;
  return {
    name: 'bounded',
    commit: 'c0ffee',
    releaseId: 1,
    services: Object.fromEntries(
      Object.entries(services).map(([name, extra]) => {
        n++;
        return [
          String(n),
          {
            serviceName: name,
            serviceId: n,
            imageId: n,
            image: `local_${name}`,
            environment: {},
            labels: {},
            running: true,
            ...extra,
          },
        ];
      }),
    ),
  };
}

describe('API: target bounds (issue 8)', function () {
  this.timeout(60_000);
  let h: Harness;

  before(requireDocker);
  beforeEach(async () => {
    h = await startHarness();
    h.settings.localMode = true;
  });
  afterEach(async () => {
    await h.close();
  });

  async function refused(payload: unknown, message: RegExp): Promise<void> {
    const r = await call(h, 'POST', '/v2/local/target-state', {
      rawBody: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.status, 'failed');
    assert.match(r.json.message, message);
    assert.equal(await h.store.targets.load({ kind: 'local' }), undefined, 'nothing stored');
    assert.deepEqual(h.reconciler.applies, [], 'nothing applied');
  }

  it('a value nested 10,000 deep under an unknown key is a 400 naming where', async () => {
    // Built as text: JSON.stringify itself cannot go that deep.
    const deep = `${'{"x":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    const text = JSON.stringify(body({ '1': app({ main: { notACompose: 'DEEP' } }) }));
    await refused(
      text.replace('"DEEP"', deep),
      /local\.apps\.1\.services\.1\.notACompose\.x.*nested deeper than 32 levels/,
    );
  });

  it('app id 0 is a 400 naming the app key', async () => {
    await refused(body({ '0': app({ main: {} }) }), /local\.apps.*app ids of at least 1/);
  });

  it('40,000 config vars (9 MB) are a 400 naming config and the bound', async () => {
    const config = Object.fromEntries(
      Array.from({ length: 40_000 }, (_, i) => [`VAR_${i}`, 'v'.repeat(200)]),
    );
    await refused(body({}, config), /config: 40000 config variables: at most 1000/);
  });

  it('too many services, env vars or labels are 400s naming the service', async () => {
    const services = Object.fromEntries(
      Array.from({ length: 251 }, (_, i) => [`s${i}`, {}] as const),
    );
    await refused(body({ '1': app(services) }), /services: 251 services: at most 250/);
    const env = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`E${i}`, 'x']));
    await refused(
      body({ '1': app({ main: { environment: env } }) }),
      /services\.main\.environment: 1001 environment variables: at most 1000/,
    );
    const labels = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`l.${i}`, 'x']));
    await refused(
      body({ '1': app({ main: { labels } }) }),
      /services\.main\.labels: 1001 labels: at most 1000/,
    );
  });

  it('a big real device is accepted: 60 services with 50 env vars each', async () => {
    const env = Object.fromEntries(
      Array.from({ length: 50 }, (_, i) => [`E${i}`, 'x'.repeat(100)]),
    );
    const services = Object.fromEntries(
      Array.from({ length: 60 }, (_, i) => [`s${i}`, { environment: env }] as const),
    );
    const r = await call(h, 'POST', '/v2/local/target-state', {
      body: body({ '1': app(services) }),
    });
    assert.equal(r.status, 200, r.text);
    const stored = await h.store.targets.load({ kind: 'local' });
    assert.deepEqual(Object.keys(stored!.apps), ['1']);
  });
});
