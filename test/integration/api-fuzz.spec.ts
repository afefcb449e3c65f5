/**
 * API fuzz run (issue 8): at least 1,000 generated bodies per run, spread over every route of the route
 * table (src/api) that takes a body. Every body the route's schema rejects must get a JSON 4xx; no body
 * may get a 5xx; and the engine's containers are unchanged afterwards. The agent is the real one behind
 * real HTTP (api-harness.ts) driving the real Reconciler over the real Docker engine, in local mode (so
 * nothing needs a key and every body reaches validation). The reconciler is scoped to this run's owner
 * label, and host actions are recorded, never performed.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { join } from 'node:path';
import { planPreviewEndpoint } from '../../src/agent/plan-preview.js';
import { apiRoutes } from '../../src/api/app.js';
import type { PlanPreviewEndpoint } from '../../src/api/routes/plan.js';
import { HostUpdateLocks } from '../../src/device/locks.js';
import type { Reconciler } from '../../src/reconciler/reconciler.js';
import { createReconciler } from '../../src/reconciler/wiring.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { requireDocker, TEST_LABEL, testDocker, uniquePrefix } from '../support/docker.js';
import { makeTempDir } from '../support/store-temp.js';
import { context } from '../unit/domain/helpers.js';
import { startHarness, type Harness } from './api-harness.js';

const RUNS_PER_ROUTE = 100;

/** JSON documents of every shape: scalars, arrays, objects with the route's own keys mixed in. */
function bodies(): fc.Arbitrary<{ raw: string; value: unknown }> {
  const known = [
    'appId',
    'force',
    'serviceName',
    'imageId',
    'local',
    'network',
    'follow',
    'count',
    'unit',
    'format',
    'since',
    'until',
    'all',
    'cancel',
    'apps',
    'name',
    'hostname',
    'proxy',
  ];
  const value = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...known), fc.string()), fc.jsonValue({ maxDepth: 3 })),
    fc.record(
      {
        local: fc.record(
          {
            name: fc.jsonValue({ maxDepth: 1 }),
            apps: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    ),
  );
  const json = value.map((v) => ({ raw: JSON.stringify(v) ?? 'null', value: v }));
  // Broken JSON too: truncated documents and random text.
  const broken = fc.oneof(
    json.map(({ raw }) => ({ raw: raw.slice(0, Math.max(0, raw.length - 1)), value: undefined })),
    fc.string().map((raw) => ({ raw, value: undefined })),
  );
  return fc.oneof({ weight: 4, arbitrary: json }, { weight: 1, arbitrary: broken });
}

function parses(raw: string): { ok: boolean; value: unknown } {
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch {
    return { ok: false, value: undefined };
  }
}

async function containerIds(): Promise<string[]> {
  return (await testDocker().listContainers({ all: true })).map((c) => c.Id).sort();
}

describe('API fuzz: generated bodies on every body route', function () {
  this.timeout(180_000);
  const prefix = uniquePrefix('api-fuzz');
  const dir = makeTempDir('bosun-test-fuzz-');
  let h: Harness;
  let reconciler: Reconciler;

  before(async () => {
    await requireDocker();
    // The cloud peer is a stand-in (the real cloud is unreachable): tags are accepted and dropped.
    const cloud = {
      fetchTargetNow: () => undefined,
      tags: () => Promise.resolve([]),
      setTags: () => Promise.resolve(),
      connectivity: () => ({
        endpoint: 'https://api.example.test/',
        provisioned: true,
        reachable: null,
        lastSuccessfulPollAt: null,
        offlineSince: null,
        lastError: null,
        connectivityCheck: 'unknown' as const,
      }),
    };
    let preview: PlanPreviewEndpoint | undefined;
    h = await startHarness(
      { cloud },
      () => ({ planPreview: preview }),
      ({ store, engine }) => {
        const logger = silentLogger();
        ({ reconciler } = createReconciler({
          engine,
          store,
          locks: new HostUpdateLocks({ root: join(dir.path, 'locks'), logger }),
          clock: systemClock,
          logger,
          scopeLabels: [`${TEST_LABEL}=${prefix}`],
        }));
        reconciler.start({ name: 'fuzz', config: {}, apps: {} });
        // POST /v2/plan previews on the same reconciler: every body must leave the engine alone there too.
        const normaliseContext = (appApiKey: (appId: number, service: string) => string) =>
          Promise.resolve({ ...context({ source: 'local' }), appApiKey });
        preview = planPreviewEndpoint({ normaliseContext, store, reconciler }, () => 'fuzz');
        return { reconciler };
      },
    );
    h.settings.localMode = true;
  });
  after(async () => {
    await reconciler?.stop();
    await h?.close();
    dir.remove();
  });

  it('≥ 1,000 bodies: invalid ones get JSON 4xx, none gets a 5xx, the engine containers are unchanged', async () => {
    const routes = apiRoutes().filter((r) => r.body !== undefined);
    assert.ok(routes.length >= 10, `only ${routes.length} body routes`);
    const before = await containerIds();
    let sent = 0;
    let invalid = 0;
    for (const route of routes) {
      const path = route.path.replace(':appId', '1');
      await fc.assert(
        fc.asyncProperty(bodies(), async ({ raw }) => {
          // A request that never gets an answer fails here naming its route and body, not as a
          // silent whole-test timeout (a hang, not a slow answer: the limit is far above any answer).
          const hung = `${route.method} ${route.path} ${raw.slice(0, 200)}: no answer in 60 s`;
          const signal = AbortSignal.timeout(60_000);
          const res = await fetch(`${h.url}${path}`, {
            method: route.method.toUpperCase(),
            headers: { 'content-type': 'application/json' },
            body: raw,
            signal,
          }).catch((err: unknown) => {
            throw signal.aborted ? new Error(hung) : err;
          });
          // A body the route accepts may start a stream that does not end (POST /v2/journal-logs with
          // `follow: true` follows the host journal until the client leaves): only an error's body is
          // read (it must be JSON); an accepted one is let go once its status is in.
          const text = res.status >= 400 ? await res.text() : '';
          if (res.status < 400) await res.body?.cancel();
          sent++;
          const where = `${route.method} ${route.path} ${raw.slice(0, 200)} → ${res.status} ${text.slice(0, 200)}`;
          assert.ok(res.status < 500, where);
          // An empty body means "all defaults" (app.ts validates `{}` then).
          const parsed = raw === '' ? { ok: true, value: {} } : parses(raw);
          const schemaOk = parsed.ok && (route.body?.().safeParse(parsed.value).success ?? true);
          if (!schemaOk) {
            invalid++;
            assert.ok(res.status >= 400 && res.status < 500, where);
            assert.match(res.headers.get('content-type') ?? '', /application\/json/, where);
            const body = JSON.parse(text) as { status: string; message: string };
            assert.equal(body.status, 'failed', where);
            assert.ok(body.message.length > 0, where);
          }
        }),
        { numRuns: RUNS_PER_ROUTE },
      );
    }
    assert.ok(sent >= 1000, `only ${sent} bodies sent`);
    assert.ok(invalid >= 500, `only ${invalid} invalid bodies among ${sent}`);
    await Promise.race([
      reconciler.whenSettled(),
      new Promise((_, reject) =>
        setTimeout(
          () => reject(new Error('the reconciler did not settle after the fuzz run')),
          60_000,
        ).unref(),
      ),
    ]);
    const after = await containerIds();
    const appeared = after.filter((id) => !before.includes(id));
    // The engine is shared with other suites: what appeared must be theirs (their owner label), never ours.
    for (const id of appeared) {
      const info = await testDocker()
        .getContainer(id)
        .inspect()
        .catch(() => undefined);
      if (info === undefined) continue;
      const owner = info.Config.Labels?.[TEST_LABEL];
      assert.ok(owner !== undefined && owner !== prefix, `the fuzz run created ${info.Name}`);
    }
    // Containers of other suites may have gone meanwhile; this run's reconciler is scoped to its own
    // owner label, so it cannot have removed them.
  });
});
