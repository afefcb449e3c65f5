/**
 * Start-up order, on the built bundle: the API port opens and `GET /ping` answers before the rest of the
 * agent (config, store, engine client, reconciler: the `main` chunk) is even loaded. A Node loader hook
 * (test/support/hold-module/) holds that chunk until the test releases it, so "before" is a fact here,
 * not a race. Requests other than /ping that arrive meanwhile are held, within a bound, and answered
 * once the agent is up.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireDocker } from '../support/docker.js';
import { AgentProcess } from '../support/agent-process.js';

const HOOK = fileURLToPath(new URL('../support/hold-module/register.mjs', import.meta.url));
/** Held requests the early server keeps (src/api/early-ping.ts). */
const MAX_HELD = 64;

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: string;
}

/** A GET on a connection of its own (fetch would queue requests on a few pooled ones). */
function getAlone(url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          retryAfter: res.headers['retry-after'],
          body,
        }),
      );
    }).on('error', reject);
  });
}

describe('e2e: start-up answers /ping before the rest of the agent loads', function () {
  this.timeout(120_000);
  let agent: AgentProcess | undefined;

  before(async () => {
    await requireDocker();
  });

  afterEach(async () => {
    await agent?.remove();
    agent = undefined;
  });

  it('answers /ping while the main chunk is held, holds other requests, and answers them once it loads', async () => {
    agent = await AgentProcess.create('bosun-startup');
    const release = join(agent.dir, 'release-main');
    // Resolves only once /ping answered 200: with the main chunk held, only the early server can.
    await agent.start(
      {
        BOSUN_LOG_LEVEL: 'info',
        BOSUN_TEST_HOLD_PATTERN: '/chunks/main-[^/]*\\.mjs$',
        BOSUN_TEST_HOLD_RELEASE: release,
      },
      ['--import', HOOK],
      { pingOnly: true },
    );
    const url = agent.url;
    assert.equal((await getAlone(`${url}/ping`)).body, 'OK');
    assert.doesNotMatch(agent.logText, /agent\.starting/, 'the main part has not run');

    // A request the early server cannot answer is held, not refused…
    let versionAnswered = false;
    const version = getAlone(`${url}/v2/version`).then((answer) => {
      versionAnswered = true;
      return answer;
    });
    // …up to a bound: beyond it, a clear 503 that says to come back.
    const extra = 8;
    const flood = Array.from({ length: MAX_HELD - 1 + extra }, () =>
      getAlone(`${url}/v2/state/status`),
    );
    const refused = await Promise.any(
      flood.map((p) =>
        p.then((a) => (a.status === 503 ? a : Promise.reject(new Error(`answered ${a.status}`)))),
      ),
    );
    assert.equal(refused.retryAfter, '1');
    assert.match(refused.body, /starting/);
    assert.equal(versionAnswered, false, 'held while the main part is not loaded');
    assert.equal((await getAlone(`${url}/ping`)).status, 200, '/ping still answers');

    await writeFile(release, '');
    const answered = await version;
    assert.equal(answered.status, 200);
    assert.match((JSON.parse(answered.body) as { version: string }).version, /bosun/);
    const statuses = (await Promise.all(flood)).map((a) => a.status);
    const count = (status: number): number => statuses.filter((s) => s === status).length;
    assert.equal(count(503), extra, `exactly the requests beyond the bound: ${statuses.join(',')}`);
    assert.equal(count(200), MAX_HELD - 1, 'every held request answered once the agent is up');
    assert.match(agent.logText, /agent\.starting/);
  });
});
