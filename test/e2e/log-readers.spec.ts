/**
 * 500 slow log readers against a busy service (issue 8), on the running agent (the built bundle) with a
 * real container on the real engine: readers beyond the bound (BOSUN_MAX_LOG_READERS, 32 by default)
 * get a 503 JSON answer, the agent's RSS stays bounded while the busy service floods the ones admitted,
 * and /v2/state/status keeps answering. Before the fix every reader was admitted and each line was
 * serialised per reader: 500 readers took the agent to 630 MB. (Latency is measured in
 * bench/log-readers.ts, never asserted here.)
 */
import assert from 'node:assert/strict';
import {
  cleanupByLabel,
  requireDocker,
  TEST_LABEL,
  testDocker,
  uniquePrefix,
} from '../support/docker.js';
import { TEST_IMAGES } from '../support/images.js';
import { requireRegistries } from '../support/registry.js';
import { BUSY_LOG_COMMAND, openSlowReaders, rssBytes } from '../support/slow-log-readers.js';
import { AgentProcess } from '../support/agent-process.js';
import { localTargetBody } from '../support/local-target-body.js';

/** Generous: the agent idles near 70 MB; before the fix 500 readers took it to 630 MB. */
const RSS_BOUND = 250 * 1024 * 1024;

describe('e2e: 500 slow log readers against a busy service', function () {
  this.timeout(240_000);
  const prefix = uniquePrefix('e2e-logreaders');
  const appId = 60_000 + Math.floor(Math.random() * 20_000);
  let agent: AgentProcess | undefined;

  before(async () => {
    await requireDocker();
    await requireRegistries();
    agent = await AgentProcess.create(prefix);
    await agent.start({ BOSUN_MAX_LOG_READERS: '32' });
  });
  after(async () => {
    await agent?.remove();
    await cleanupByLabel(prefix);
  });

  it('admits the bound, refuses the rest with 503 JSON, keeps RSS bounded and status answering', async () => {
    const a = agent!;
    const body = localTargetBody(prefix, appId, 'busy1', 1, TEST_IMAGES.busybox, [
      { name: 'busy' },
    ]) as {
      local: { apps: Record<string, { services: Record<string, { command: string[] }> }> };
    };
    body.local.apps[String(appId)]!.services['1']!.command = BUSY_LOG_COMMAND;
    await a.postLocalTarget(body);
    for (let i = 0; i < 600; i++) {
      const running = await testDocker().listContainers({
        filters: { label: [`${TEST_LABEL}=${prefix}`], status: ['running'] },
      });
      if (running.length === 1) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const pid = a.child!.pid!;

    const readers = await openSlowReaders(a.url, 500);
    try {
      assert.equal(readers.accepted, 32, `admitted ${readers.accepted}`);
      assert.equal(readers.refused, 468);
      const refusal = JSON.parse(readers.refusal ?? '{}') as { status: string; message: string };
      assert.equal(refusal.status, 'failed');
      assert.match(refusal.message, /Too many log readers.*BOSUN_MAX_LOG_READERS/);

      // Let the busy service flood the admitted readers while status is asked for and RSS sampled.
      let peak = 0;
      for (let i = 0; i < 60; i++) {
        const res = await fetch(`${a.url}/v2/state/status`);
        assert.equal(res.status, 200);
        const status = (await res.json()) as { containers: unknown[] };
        assert.equal(status.containers.length, 1);
        peak = Math.max(peak, rssBytes(pid));
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(peak < RSS_BOUND, `RSS peaked at ${Math.round(peak / 1048576)} MB`);
    } finally {
      readers.close();
    }
    // Readers that leave free their places.
    for (let i = 0; i < 100; i++) {
      const again = await openSlowReaders(a.url, 1);
      again.close();
      if (again.accepted === 1) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail('no reader admitted after the slow ones left');
  });
});
