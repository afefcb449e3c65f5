/**
 * What the bundle's build-level cuts (scripts/build.mjs; BENCHMARKS.md, "Build-level cuts") must not
 * change, seen through the running agent: without keepNames an error logged by the agent still says
 * its class (`err.type`); with zod's locales cut to English a validation error reads exactly as zod
 * gives it unbundled.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { validate } from '../../src/api/validate.js';
import { ServiceActionBody } from '../../src/api/schemas.js';
import { isBosunError } from '../../src/shared/errors.js';
import { AgentProcess } from '../support/agent-process.js';
import { waitUntil } from '../support/cloud-peer/wait.js';
import { uniquePrefix } from '../support/docker.js';

interface LogLine {
  event?: string;
  err?: { type?: string; message?: string; stack?: string };
}

describe('e2e: the bundle after its build-level cuts (no keepNames, English-only zod)', function () {
  this.timeout(180_000);
  const prefix = uniquePrefix('e2e-cuts');
  const appId = 60_000 + Math.floor(Math.random() * 5_000); // no such app: the body is refused first
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

  it('a validation error is the same English text zod gives unbundled', async () => {
    const body = { serviceName: 5, force: 'yes' };
    let expected = '';
    try {
      validate(ServiceActionBody, body, 'body');
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
});
