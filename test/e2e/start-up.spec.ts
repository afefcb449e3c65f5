/**
 * Start-up order, on the built bundle: the API port opens and `GET /ping` answers before the rest of the
 * agent (config, store, engine client, reconciler: the `main` chunk) is even loaded. A Node loader hook
 * (test/support/hold-module/) holds that chunk until the test releases it, so "before" is a fact here,
 * not a race. (On Node 20, the machine's line, where loading a module is asynchronous. From Node 22 on,
 * `import()` blocks the event loop until the module has loaded, and a hook holding it blocks it too, so
 * there the early server answers a client that asks before the load starts: src/api/early-ping.ts,
 * firstRequestGraceMs.) Requests other than /ping that arrive meanwhile are held, within a bound, and answered
 * once the agent is up. Node's compiled-code cache (src/config/compile-cache.ts) never stops the agent:
 * unusable, corrupt or next to other files, it starts all the same.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import * as nodeModule from 'node:module';
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

  it("starts whatever its compiled-code cache holds: an unusable path, corrupt entries, another line's, a user's files", async () => {
    // The agent runs on this same Node binary: the cache is in use where the line has it (Node ≥ 22.1).
    const supported =
      typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === 'function';
    agent = await AgentProcess.create('bosun-compile-cache');
    const version = async (): Promise<number> =>
      (await getAlone(`${agent!.url}/v2/version`)).status;

    // A path that cannot become a directory: a warning, and the agent runs without the cache.
    const blocker = join(agent.dir, 'a-file');
    await writeFile(blocker, 'not a directory');
    await agent.start({ BOSUN_COMPILE_CACHE: join(blocker, 'cache'), BOSUN_LOG_LEVEL: 'info' });
    assert.equal(await version(), 200);
    if (supported) assert.match(agent.logText, /compile-cache\.unusable/);
    await agent.stop();

    // A directory with a user's file, another Node line's entries and, once this line wrote its own,
    // those overwritten with garbage.
    const cache = join(agent.dir, 'cache');
    const otherLine = join(cache, 'v1.0.0-x64-deadbeef-0');
    await mkdir(otherLine, { recursive: true });
    await writeFile(join(otherLine, '0badc0de'), 'old');
    await writeFile(join(cache, 'keep.txt'), 'mine');
    const env = { BOSUN_COMPILE_CACHE: cache, BOSUN_LOG_LEVEL: 'info' };
    await agent.start(env);
    const ownDirs = async (): Promise<string[]> =>
      (await readdir(cache)).filter((name) => /^v\d/.test(name) && !name.startsWith('v1.0.0-'));
    let entries: string[] = [];
    if (supported) {
      // Written once the agent is up (settleCompileCache).
      for (let i = 0; i < 100 && entries.length === 0; i++) {
        const [own] = await ownDirs();
        if (own !== undefined)
          entries = (await readdir(join(cache, own))).map((e) => join(cache, own, e));
        if (entries.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(entries.length > 0, 'this line wrote its entries');
    }
    await agent.stop();
    for (const entry of entries) await writeFile(entry, 'garbage, not a V8 code cache');

    await agent.start(env);
    assert.equal(await version(), 200, 'the API answers with corrupt entries');
    assert.equal(
      await readFile(join(cache, 'keep.txt'), 'utf8'),
      'mine',
      "the user's file is kept",
    );
    if (supported) {
      // Once up, the agent removes the other line's entries; Node rejects the corrupt ones (checksums),
      // compiles afresh and writes them again.
      const settled = async (): Promise<boolean> =>
        (await readdir(otherLine).then(
          () => false,
          () => true,
        )) && !(await readFile(entries[0]!, 'utf8').catch(() => '')).startsWith('garbage');
      let done = false;
      for (let i = 0; i < 100 && !done; i++) {
        done = await settled();
        if (!done) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(done, "another line's entries removed and the corrupt entry replaced");
    }
  });
});
