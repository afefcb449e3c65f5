/**
 * Issue 8 through the real HTTP API: a local push whose named volume smuggles a bind mount of the host
 * (`driver_opts: {type: none, o: bind, device: /etc}`) is a 400 naming the option, nothing stored; the
 * same app with a plain named volume is accepted.
 */
import assert from 'node:assert/strict';
import { requireDocker } from '../support/docker.js';
import { call, startHarness, type Harness } from './api-harness.js';

function push(volume: Record<string, unknown> | null): unknown {
  return {
    local: {
      name: 'dev',
      config: {},
      apps: {
        '1': {
          name: 'vol',
          commit: 'c0ffee',
          releaseId: 1,
          services: {
            '1': {
              serviceName: 'main',
              serviceId: 1,
              imageId: 1,
              image: 'local_main',
              environment: {},
              labels: {},
              running: true,
              volumes: ['data:/data'],
            },
          },
          volumes: { data: volume },
        },
      },
    },
  };
}

describe('API: named volumes cannot smuggle a bind mount (issue 8)', function () {
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

  it('type none, o bind, device /etc: 400 naming the option; nothing stored or applied', async () => {
    const r = await call(h, 'POST', '/v2/local/target-state', {
      body: push({ driver_opts: { type: 'none', o: 'bind', device: '/etc' } }),
    });
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.message, /volumes\.data\.driver_opts\.o: "bind" would mount a host path/);
    assert.equal(await h.store.targets.load({ kind: 'local' }), undefined);
    assert.deepEqual(h.reconciler.applies, []);
  });

  it('a plain named volume is accepted and stored', async () => {
    const r = await call(h, 'POST', '/v2/local/target-state', { body: push(null) });
    assert.equal(r.status, 200, r.text);
    const stored = await h.store.targets.load({ kind: 'local' });
    assert.deepEqual(Object.keys(stored!.apps), ['1']);
    assert.deepEqual(h.reconciler.applies, [{ force: false }]);
  });
});
