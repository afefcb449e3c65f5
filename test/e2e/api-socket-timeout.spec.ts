/**
 * config.json `apiTimeout` is the local API's socket (inactivity) timeout, as docs/configuration.md and
 * balena-supervisor say. Before issue 8 it was parsed and then ignored: an idle connection stayed open
 * for ever. The agent process is started with apiTimeout 500 ms; an idle connection must be closed by
 * the agent, while a request on a fresh connection is still answered.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { requireDocker, uniquePrefix } from '../support/docker.js';
import { AgentProcess } from '../support/agent-process.js';

describe('agent process: config.json apiTimeout', function () {
  this.timeout(60_000);
  let agent: AgentProcess | undefined;

  before(async () => {
    await requireDocker();
    agent = await AgentProcess.create(uniquePrefix('e2e-apitimeout'));
    await mkdir(join(agent.dir, 'data'), { recursive: true, mode: 0o700 });
    await writeFile(join(agent.dir, 'data', 'config.json'), JSON.stringify({ apiTimeout: 500 }), {
      mode: 0o600,
    });
    await agent.start();
  });
  after(async () => {
    await agent?.remove();
  });

  it('closes a connection idle for longer than apiTimeout, and still answers requests', async () => {
    const socket = connect(agent!.port, '127.0.0.1');
    const closedBy = await new Promise<string>((resolve, reject) => {
      socket.on('error', reject);
      socket.on('end', () => resolve('agent'));
      // Far beyond 500 ms, yet bounded: the test fails instead of hanging if nothing closes it.
      setTimeout(() => resolve('nobody'), 20_000).unref();
    });
    socket.destroy();
    assert.equal(closedBy, 'agent');
    assert.equal((await fetch(`${agent!.url}/ping`)).status, 200);
  });
});
