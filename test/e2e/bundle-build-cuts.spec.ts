/**
 * What the bundle's build-level cuts (scripts/build.mjs; BENCHMARKS.md, "Build-level cuts") must not
 * change, seen through the running agent: without keepNames an error logged by the agent still says
 * its class (`err.type`); with zod's locales cut to English a validation error reads exactly as zod
 * gives it unbundled; with mime-types answered by scripts/mime-types-lazy.cjs the API's and the
 * dashboard's Content-Type headers are those express sets with the full mime-types, and serving them
 * loads neither mime-types nor mime-db.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validate } from '../../src/api/validate.js';
import { ServiceActionBody } from '../../src/api/schemas.js';
import { isBosunError } from '../../src/shared/errors.js';
import { AgentProcess } from '../support/agent-process.js';
import { waitUntil } from '../support/cloud-peer/wait.js';
import { uniquePrefix } from '../support/docker.js';

const RECORD_CJS = fileURLToPath(new URL('../support/record-cjs-modules.mjs', import.meta.url));

interface LogLine {
  event?: string;
  err?: { type?: string; message?: string; stack?: string };
}

describe('e2e: the bundle after its build-level cuts (no keepNames, English-only zod, lazy mime-types)', function () {
  this.timeout(180_000);
  const prefix = uniquePrefix('e2e-cuts');
  const appId = 60_000 + Math.floor(Math.random() * 5_000); // no such app: the body is refused first
  let agent: AgentProcess;

  // The engine is not what these tests look at: an agent whose engine socket does not exist answers
  // its API all the same, and its log capture fails listing containers, which gives a logged error.
  // It records the CommonJS modules it loaded, for the last test.
  before(async () => {
    agent = await AgentProcess.create(prefix);
    await agent.start(
      {
        BOSUN_ENGINE_SOCKET: join(agent.dir, 'no-engine.sock'),
        BOSUN_TEST_RECORD_CJS: join(agent.dir, 'cjs-modules'),
      },
      ['--import', RECORD_CJS],
    );
  });
  after(async () => {
    await agent?.remove();
  });

  it("an error the agent logs keeps its class's name as `type` and in its stack", async () => {
    const line = await waitUntil(
      () => agent.logText.split('\n').find((l) => l.includes('"logs.capture-list-failed"')),
      'logs.capture-list-failed in the log',
      60_000,
    );
    const logged = JSON.parse(line) as LogLine;
    assert.equal(logged.err?.type, 'BosunError', line);
    assert.match(logged.err?.stack ?? '', /^BosunError: list containers: engine not reachable/);
  });

  it('a validation error is the same English text zod gives unbundled', async () => {
    const body = { serviceName: 5, force: 'yes' };
    let expected = '';
    try {
      validate(ServiceActionBody(), body, 'body');
      assert.fail('the body should not validate');
    } catch (err) {
      assert.ok(isBosunError(err, 'VALIDATION_FAILED'), String(err));
      expected = err.message;
    }
    assert.match(expected, /expected string, received number/);
    const res = await fetch(`${agent.url}/v2/applications/${appId}/restart-service`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { message: string }).message, expected);
  });

  it('Content-Type headers are those of express with the full mime-types', async () => {
    const typeOf = async (path: string): Promise<string | null> => {
      const res = await fetch(`${agent.url}${path}`, { redirect: 'manual' });
      await res.arrayBuffer();
      return res.headers.get('content-type');
    };
    const expected: Record<string, string> = {
      '/ping': 'text/plain; charset=utf-8', // res.type('text/plain'): charset from mime-db
      '/v2/device/name': 'application/json; charset=utf-8', // res.json
      '/v2/no-such-route': 'application/json; charset=utf-8', // an error answer
      '/': 'text/plain; charset=utf-8', // res.redirect: res.format's `text` (mime lookup of "text")
      '/dashboard': 'text/html; charset=utf-8',
      '/dashboard/dashboard.js': 'text/javascript; charset=utf-8',
      '/dashboard/dashboard.css': 'text/css; charset=utf-8',
      '/metrics': 'text/plain; version=0.0.4; charset=utf-8', // prom-client's, passed through
    };
    const seen: Record<string, string | null> = {};
    for (const path of Object.keys(expected)) seen[path] = await typeOf(path);
    assert.deepEqual(seen, expected);
  });

  it('after serving those, the agent has not loaded mime-types or mime-db', async () => {
    await agent.stop();
    const loaded = readFileSync(join(agent.dir, 'cjs-modules'), 'utf8').split('\n');
    // The record does see what the bundle loads from node_modules: better-sqlite3's native addon, by
    // its path (src/shared/sqlite-addon.ts), and nothing else of better-sqlite3 (its JavaScript is in
    // the bundle) nor `bindings`, the finder it would otherwise search with.
    assert.deepEqual(
      loaded.filter((path) => /\/node_modules\/(better-sqlite3|bindings)\//.test(path)),
      loaded.filter((path) =>
        path.endsWith('/node_modules/better-sqlite3/build/Release/better_sqlite3.node'),
      ),
      loaded.join('\n'),
    );
    assert.ok(
      loaded.some((path) => path.endsWith('better_sqlite3.node')),
      loaded.join('\n'),
    );
    assert.deepEqual(
      loaded.filter((path) => /\/node_modules\/mime-(types|db)\//.test(path)),
      [],
    );
  });
});
