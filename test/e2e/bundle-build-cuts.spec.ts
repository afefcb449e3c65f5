/**
 * What the bundle's build-level cuts (scripts/build.mjs; BENCHMARKS.md, "Build-level cuts") must not
 * change, seen through the running agent: without keepNames an error logged by the agent still says
 * its class (`err.type`).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { AgentProcess } from '../support/agent-process.js';
import { waitUntil } from '../support/cloud-peer/wait.js';
import { uniquePrefix } from '../support/docker.js';

interface LogLine {
  event?: string;
  err?: { type?: string; message?: string; stack?: string };
}

describe('e2e: the bundle after its build-level cuts (no keepNames)', function () {
  this.timeout(180_000);
  const prefix = uniquePrefix('e2e-cuts');
  let agent: AgentProcess;

  // The engine is not what these tests look at: an agent whose engine socket does not exist answers
  // its API all the same, and its log capture fails listing containers, which gives a logged error.
  before(async () => {
    agent = await AgentProcess.create(prefix);
    await agent.start({ BOSUN_ENGINE_SOCKET: join(agent.dir, 'no-engine.sock') });
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
});
