/**
 * What the running agent (the built bundle) exposes, end to end: in local mode a web page's form post
 * with a foreign Origin is refused and starts nothing, balena-cli's calls and key-less scripts work, and
 * the start-up log says local mode is on and what it opens; `bosun key` prints the device-wide key
 * without starting an agent; outside local mode the routes need that key.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliCall } from '../support/balena-cli.js';
import { requireDocker, TEST_LABEL, testDocker, uniquePrefix } from '../support/docker.js';
import { AgentProcess } from '../support/agent-process.js';

const run = promisify(execFile);

async function bosunKey(agent: AgentProcess): Promise<string> {
  const { stdout } = await run('bin/bosun', ['key'], {
    env: { ...process.env, BOSUN_DATA_DIR: join(agent.dir, 'data') },
  });
  return stdout.trim();
}

describe('e2e: what the local API exposes (bundle)', function () {
  this.timeout(120_000);
  const prefix = uniquePrefix('e2e-exposure');
  let agent: AgentProcess;

  before(async () => {
    await requireDocker();
    agent = await AgentProcess.create(prefix);
  });
  after(async () => agent?.remove());

  it('local mode: start-up log says what is open; a foreign form post is refused and starts nothing; scripts need no key', async () => {
    await agent.start();
    const line = agent.logText.split('\n').find((l) => l.includes('api.local-mode-open'));
    assert.ok(line, `no local-mode notice in: ${agent.logText.slice(0, 2000)}`);
    assert.match(line, /without an API key/);
    assert.match(line, /\/v2\/local\/target-state/);

    const form = new URLSearchParams({
      'local[apps][1][services][1][serviceName]': 'root',
      'local[apps][1][services][1][image]': 'busybox',
      'local[apps][1][services][1][volumes][0]': '/var/run/docker.sock:/var/run/docker.sock',
    });
    const res = await fetch(`${agent.url}/v2/local/target-state`, {
      method: 'POST',
      headers: {
        origin: 'http://attacker.example',
        'sec-fetch-site': 'cross-site',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: form.toString(),
    });
    assert.equal(res.status, 403);
    assert.match(((await res.json()) as { message: string }).message, /other web origins/);
    const stored = (await cliCall(agent.url, 'GET', '/v2/local/target-state')) as {
      state: { local: { apps: Record<string, unknown> } };
    };
    assert.deepEqual(stored.state.local.apps, {});
    const containers = await testDocker().listContainers({
      all: true,
      filters: { label: [`${TEST_LABEL}=${prefix}`] },
    });
    assert.deepEqual(containers, []);

    // Scripts and balena-cli: no key needed anywhere in local mode.
    for (const path of ['/v2/applications/state', '/v1/device', '/v2/device/name', '/v2/version'])
      assert.equal((await fetch(`${agent.url}${path}`)).status, 200, path);
  });

  it('`bosun key` prints the device-wide key; outside local mode routes need it', async () => {
    const key = await bosunKey(agent); // while the agent runs (WAL lets a reader in)
    assert.match(key, /^[0-9a-f]{32}$/);
    await agent.stop();
    assert.equal(await bosunKey(agent), key, 'the key read with the agent stopped differs');

    await agent.start({ BOSUN_LOCAL_MODE: 'false' });
    assert.equal((await fetch(`${agent.url}/v2/applications/state`)).status, 401);
    assert.equal((await fetch(`${agent.url}/v1/device?apikey=${key}`)).status, 200);
    const bearer = await fetch(`${agent.url}/v2/device/name`, {
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(bearer.status, 200);
    await agent.stop();
  });

  it('`bosun key` on a device that never ran fails with a message that says what to do', async () => {
    await assert.rejects(
      run('bin/bosun', ['key'], {
        env: { ...process.env, BOSUN_DATA_DIR: join(agent.dir, 'nowhere') },
      }),
      (err: { code: number; stderr: string }) =>
        err.code === 1 && /start the agent once/.test(err.stderr),
    );
  });
});
