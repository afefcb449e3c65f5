/**
 * What the idle agent carries (issue 16, BENCHMARKS.md "Modules the idle agent does not load"): a
 * local-mode agent with no cloud has no use for the cloud client's HTTPS/TLS/gzip transport, the cloud
 * log stream's, the Pushgateway prom-client's index would bring, or the mDNS responder's packages while
 * advertising is off; each is loaded where it is wired to run. Nor pino's transports, nor body-parser
 * before a body arrives, and of node_modules only SQLite's addon (scripts/build-plugins.mjs). The built
 * bundle runs with a test-only `--import` probe (test/support/builtin-probe/) that writes
 * `process.moduleLoadList` and require's cache on SIGUSR2, so "not loaded" is read from the running
 * process, not from the source. A managed agent (a cloud peer) is the control: the same probe sees the
 * cloud's modules there, so the local-mode answer is not a probe that sees nothing.
 */
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentProcess } from '../support/agent-process.js';
import { startCloudPeer, type CloudPeer } from '../support/cloud-peer/index.js';
import { waitUntil } from '../support/cloud-peer/wait.js';
import { requireDocker, uniquePrefix } from '../support/docker.js';

const PROBE = fileURLToPath(new URL('../support/builtin-probe/register.mjs', import.meta.url));
/** Built-ins only the cloud link uses (the cloud client, the log stream's request and gzip body). */
const CLOUD_ONLY = ['https', 'tls', 'zlib'];
/** Also left out of an idle agent: pino's transports run in a worker thread, and bosun has none. */
const IDLE_NEVER = [...CLOUD_ONLY, 'worker_threads'];

interface Loaded {
  /** Built-in modules (`NativeModule x` lines of moduleLoadList). */
  builtins: Set<string>;
  /** CommonJS files loaded from node_modules (the packages outside the bundle). */
  commonjs: string[];
}

/** Starts `agent` with the probe; `loaded()` asks the running process what it has loaded so far. */
async function startWithProbe(agent: AgentProcess): Promise<{ loaded: () => Promise<Loaded> }> {
  const file = join(agent.dir, 'loaded.json');
  await agent.start({ BOSUN_TEST_LOADED_FILE: file }, ['--import', PROBE]);
  return {
    loaded: async () => {
      await rm(file, { force: true });
      agent.child?.kill('SIGUSR2');
      const text = await waitUntil(
        () => readFile(file, 'utf8').catch(() => undefined),
        'the probe to write what is loaded',
      );
      const json = JSON.parse(text) as { moduleLoadList: string[]; commonjs: string[] };
      return {
        builtins: new Set(
          json.moduleLoadList
            .filter((line) => line.startsWith('NativeModule '))
            .map((line) => line.slice('NativeModule '.length)),
        ),
        commonjs: json.commonjs,
      };
    },
  };
}

describe('e2e: what the idle agent loads', function () {
  this.timeout(120_000);
  let agent: AgentProcess | undefined;
  let peer: CloudPeer | undefined;

  before(async () => {
    await requireDocker();
  });

  afterEach(async () => {
    await agent?.remove();
    agent = undefined;
    await peer?.close();
    peer = undefined;
  });

  it('in local mode without a cloud, carries no HTTPS, TLS, zlib or mDNS responder; a push loads the body parser, still no TLS', async () => {
    agent = await AgentProcess.create(uniquePrefix('e2e-idlemod'));
    const probe = await startWithProbe(agent);
    assert.equal((await fetch(`${agent.url}/v2/device/name`)).status, 200);

    const idle = await probe.loaded();
    // The probe sees what the agent does load: its HTTP server, and SQLite's addon from node_modules.
    assert.ok(idle.builtins.has('http') && idle.builtins.has('fs'), [...idle.builtins].join(' '));
    assert.ok(idle.commonjs.some((path) => path.includes('/node_modules/better-sqlite3/')));
    assert.deepEqual(
      IDLE_NEVER.filter((name) => idle.builtins.has(name)),
      [],
      'an idle local-mode agent loaded the cloud transport, body-parser (zlib) or pino transports',
    );
    assert.deepEqual(
      idle.commonjs.filter((path) =>
        /\/node_modules\/(bonjour-service|multicast-dns)\//.test(path),
      ),
      [],
      'mDNS is off (no BOSUN_MDNS_INTERFACES), so its packages stay unloaded',
    );
    // better-sqlite3's JavaScript is in the bundle: Node's CommonJS loader loads its addon and nothing
    // else, too little path resolution for TurboFan to compile path's internals during start.
    assert.deepEqual(
      idle.commonjs.filter((path) => !path.endsWith('.node')),
      [],
      'CommonJS files loaded from node_modules by the idle agent',
    );

    // balena-cli's push: a JSON body, parsed by body-parser loaded now (it brings zlib to inflate
    // compressed bodies), and still nothing of the cloud's.
    const res = await fetch(`${agent.url}/v2/local/target-state`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ local: { name: 'idle-modules', config: {}, apps: {} } }),
    });
    assert.equal(res.status, 200, await res.text());
    const stored = await fetch(`${agent.url}/v2/local/target-state`);
    const body = (await stored.json()) as { state: { local: { name: string } } };
    assert.equal(body.state.local.name, 'idle-modules', 'the pushed body was parsed and stored');
    const pushed = await probe.loaded();
    assert.ok(pushed.builtins.has('zlib'), 'the body parser is loaded with the first body');
    assert.deepEqual(
      ['https', 'tls'].filter((name) => pushed.builtins.has(name)),
      [],
      'a push to a local-mode agent loaded the cloud transport',
    );
  });

  it('restarted on its data dir, answers requests without loading node:crypto; its first start drew keys with it', async () => {
    agent = await AgentProcess.create(uniquePrefix('e2e-idlemod-crypto'));
    const first = await startWithProbe(agent);
    // The control: a first start generates the device's uuid and API keys from random bytes.
    assert.ok(
      (await first.loaded()).builtins.has('crypto'),
      'the first start drew no random bytes',
    );
    await agent.stop();

    // As after a reboot: nothing to generate. API answers carry ETags (src/api/etag.ts, no SHA-1).
    const again = await startWithProbe(agent);
    for (const path of ['/ping', '/v2/device/name', '/v2/state/status', '/v2/applications/state']) {
      const res = await fetch(`${agent.url}${path}`);
      assert.equal(res.status, 200, path);
      const etag = res.headers.get('etag') ?? '';
      assert.match(etag, /^W\/"[0-9a-f]+-[0-9a-f]{16}"$/, path);
      if (path === '/v2/device/name') {
        // A browser's revalidation. fetch() alone would add `cache-control: no-cache` to a request
        // with If-None-Match, which tells the server not to answer from the validator.
        const unchanged = await fetch(`${agent.url}${path}`, {
          headers: { 'if-none-match': etag, 'cache-control': 'max-age=0' },
        });
        assert.equal(unchanged.status, 304, 'a revalidation with the ETag is answered 304');
      }
    }
    const { builtins } = await again.loaded();
    assert.deepEqual(
      [...builtins].filter((name) => /crypto/.test(name)),
      [],
      'the restarted idle agent loaded node:crypto (src/shared/node-crypto.ts loads it on first use)',
    );
  });

  it('managed by a cloud, loads the cloud transport once the cloud binding runs', async () => {
    peer = await startCloudPeer({ fleet: { id: 17 } });
    agent = await AgentProcess.create(uniquePrefix('e2e-idlemod-cloud'), { peer, fleetId: 17 });
    const probe = await startWithProbe(agent);
    const managed = agent;
    await waitUntil(() => managed.configJson()['uuid'] as string | undefined, 'provisioning');
    const { builtins } = await probe.loaded();
    assert.deepEqual(
      CLOUD_ONLY.filter((name) => !builtins.has(name)),
      [],
      'the managed agent is missing part of the cloud transport',
    );
  });
});
