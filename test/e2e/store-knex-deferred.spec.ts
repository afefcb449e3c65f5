/**
 * knex (~13 MiB, ~0.6 s to load on this machine) runs the schema migrations only, and the built agent
 * loads it only when one is pending: the migration runner is a chunk of its own (run-migrations-*.mjs,
 * knex inside), imported after a plain query on knex_migrations finds something to run. A Node loader
 * hook (test/support/record-modules/) records every module each run loads, so "not loaded" is read from
 * the process itself. Same data dir twice: the first start creates and migrates the database, the
 * second finds it up to date, and what the first stored is still served.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireDocker } from '../support/docker.js';
import { AgentProcess } from '../support/agent-process.js';

const HOOK = fileURLToPath(new URL('../support/record-modules/register.mjs', import.meta.url));
const RUNNER_CHUNK = /\/chunks\/run-migrations-[^/]*\.mjs$/;
const MAIN_CHUNK = /\/chunks\/main-[^/]*\.mjs$/;

async function loadedModules(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '');
}

describe('e2e: the store loads knex only when a migration is pending', function () {
  this.timeout(120_000);
  let agent: AgentProcess | undefined;

  before(async () => {
    await requireDocker();
  });

  after(async () => {
    await agent?.remove();
  });

  it('migrates a new database with the runner chunk, and reopens it up to date without loading it', async () => {
    agent = await AgentProcess.create('bosun-store-knex');
    const firstRun = join(agent.dir, 'modules-first');
    await agent.start({ BOSUN_LOG_LEVEL: 'info', BOSUN_TEST_RECORD_MODULES: firstRun }, [
      '--import',
      HOOK,
    ]);
    await agent.postLocalTarget({ local: { name: 'knex-deferred', config: {}, apps: {} } });
    await agent.stop();
    const first = await loadedModules(firstRun);
    assert.ok(
      first.some((url) => RUNNER_CHUNK.test(url)),
      'a new database loads the runner',
    );
    assert.match(agent.logText, /"store\.migrating"/);

    agent.logText = '';
    const secondRun = join(agent.dir, 'modules-second');
    await agent.start({ BOSUN_LOG_LEVEL: 'info', BOSUN_TEST_RECORD_MODULES: secondRun }, [
      '--import',
      HOOK,
    ]);
    const res = await fetch(`${agent.url}/v2/local/target-state`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { state: { local: { name: string } } };
    assert.equal(body.state.local.name, 'knex-deferred', 'the store still serves what was saved');
    const second = await loadedModules(secondRun);
    // The hook did record this run's chunks: the main one is there, the runner is not.
    assert.ok(
      second.some((url) => MAIN_CHUNK.test(url)),
      'the hook recorded the main chunk',
    );
    assert.deepEqual(
      second.filter((url) => RUNNER_CHUNK.test(url) || /\/node_modules\/knex\//.test(url)),
      [],
    );
    assert.match(agent.logText, /"store\.opened"/);
    assert.doesNotMatch(agent.logText, /"store\.migrating"/);
  });
});
