/**
 * An agent updated in place, without a reboot, keeps the log lines its predecessor had spooled.
 * The tmpfs spool's directory under /run used to carry 12 hex digits of the data dir's SHA-256 and now
 * carries its 64-bit FNV-1a tag (src/logs/log-spool-settings.ts; SHA-256 loaded node:crypto at every
 * start). The first agent here writes its spool where an agent of before that change did; the second
 * starts with the default spool dir and must adopt it (src/logs/legacy-spool-dir.ts): the lines are
 * still read back, and the old directory is gone. Uses /run, as the agent does by default.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { dataDirTag } from '../../src/logs/log-spool-settings.js';
import { AgentProcess } from '../support/agent-process.js';
import { waitUntil } from '../support/cloud-peer/wait.js';
import { cleanupByLabel, requireDocker, uniquePrefix } from '../support/docker.js';
import { localTargetBody } from '../support/local-target-body.js';
import { OPEN_REGISTRY, requireRegistries } from '../support/registry.js';

interface RecentLine {
  message: string;
}

async function systemLines(agent: AgentProcess): Promise<string[]> {
  const res = await fetch(`${agent.url}/v2/logs/recent`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { lines: RecentLine[] };
  return body.lines.map((l) => l.message);
}

describe('e2e: the log spool across an agent update without a reboot', function () {
  this.timeout(120_000);
  const prefix = uniquePrefix('e2e-spool-upgrade');
  let agent: AgentProcess | undefined;
  const dirs: string[] = [];

  before(async () => {
    await requireDocker();
    await requireRegistries();
  });

  after(async () => {
    await agent?.remove();
    await cleanupByLabel(prefix);
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('adopts the spool of the old directory name, with its lines', async () => {
    agent = await AgentProcess.create(prefix);
    const dataDir = resolve(join(agent.dir, 'data'));
    const legacy = join(
      '/run',
      `bosun-log-spool-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`,
    );
    const current = join('/run', `bosun-log-spool-${dataDirTag(dataDir)}`);
    dirs.push(legacy, current);

    // The agent of before: its spool under the SHA-256 name. A release whose image cannot be pulled
    // gives it a system line to keep.
    await agent.start({ BOSUN_LOG_SPOOL_DIR: legacy });
    const missing = `${OPEN_REGISTRY}/bosun-test/missing-${prefix}:1`;
    await agent.postLocalTarget(localTargetBody(prefix, 1, 'one', 1, missing, [{ name: 'main' }]));
    const failed = await waitUntil(
      async () =>
        (await systemLines(agent!)).find((m) =>
          m.startsWith(`Failed to download image '${missing}'`),
        ),
      'the failed download in the spool',
    );
    // An empty target, so the second agent has nothing to pull and says nothing new about it.
    await agent.postLocalTarget({ local: { name: 'e2e-device', config: {}, apps: {} } });
    await agent.stop();
    assert.ok(existsSync(legacy), 'the first agent spooled under the old name');

    // The updated agent: the default spool dir ('' is unset).
    await agent.start({ BOSUN_LOG_SPOOL_DIR: '', BOSUN_LOG_LEVEL: 'info' });
    assert.ok(existsSync(current), `no spool at ${current}`);
    assert.equal(existsSync(legacy), false, 'the old spool directory is still there');
    assert.ok(
      (await systemLines(agent)).includes(failed),
      'the line the first agent spooled is not read back by the second',
    );
    assert.match(agent.output(), /logs\.spool-adopted/);
  });
});
