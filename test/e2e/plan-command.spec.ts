/**
 * `bosun plan` as a person runs it: the built bundle as a process, against the agent process (also the
 * built bundle) on the real engine. With a target file it prints what the agent would do, with no file
 * the stored target (nothing to do once applied); it changes nothing (the running container stays, the
 * stored target stays); a broken file is refused with a message naming the JSON path. Right after a
 * push, the stored target's plan is the pushed one's (the preview waits for the loop to load it).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { agentCommand } from '../support/agent-command.js';
import {
  cleanupByLabel,
  requireDocker,
  TEST_LABEL,
  testDocker,
  uniquePrefix,
} from '../support/docker.js';
import { TEST_IMAGES } from '../support/images.js';
import { requireRegistries } from '../support/registry.js';
import { AgentProcess } from '../support/agent-process.js';
import { localTargetBody } from '../support/local-target-body.js';
import { waitUntil } from '../support/cloud-peer/wait.js';
import { suiteAgent } from './support/suite-agent.js';

const run = promisify(execFile);

describe('`bosun plan` against the running agent', function () {
  this.timeout(300_000);
  const prefix = uniquePrefix('e2e-plan');
  const appId = 80_000 + Math.floor(Math.random() * 10_000);
  let agent: AgentProcess | undefined;

  const target = (commit: string, releaseId: number, n: string): unknown =>
    localTargetBody(prefix, appId, commit, releaseId, TEST_IMAGES.busybox, [
      { name: 'main', env: { N: n } },
    ]);

  const mainContainer = async (): Promise<{ id: string; name: string } | undefined> => {
    const list = await testDocker().listContainers({
      all: true,
      filters: { label: [`${TEST_LABEL}=${prefix}`] },
    });
    const c = list.find((x) => x.Labels['io.balena.service-name'] === 'main');
    return c === undefined ? undefined : { id: c.Id, name: (c.Names[0] ?? '').slice(1) };
  };

  const plan = async (
    ...args: string[]
  ): Promise<{ code: number; stdout: string; stderr: string }> => {
    const cli = agentCommand();
    const env = { ...process.env, BOSUN_API_PORT: String(agent!.port) };
    return run(cli.command, [...cli.args, 'plan', ...args], { env }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (err: { code: number; stdout: string; stderr: string }) => ({
        code: err.code,
        stdout: err.stdout,
        stderr: err.stderr,
      }),
    );
  };

  before(async () => {
    await requireDocker();
    await requireRegistries();
    agent = await AgentProcess.create(prefix);
    await agent.start();
    await agent.postLocalTarget(target('one', 1, '1'));
    for (let i = 0; i < 480; i++) {
      const c = await mainContainer();
      if (c?.name.endsWith('_one') === true) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok((await mainContainer())?.name.endsWith('_one'), 'release one runs');
  });
  after(async () => {
    await agent?.remove();
    await cleanupByLabel(prefix);
  });

  it('prints the plan for a target file, and changes nothing', async () => {
    const before = await mainContainer();
    const file = join(agent!.dir, 'release-two.json');
    await writeFile(file, JSON.stringify(target('two', 2, '2')));
    const { code, stdout, stderr } = await plan(file);
    assert.equal(code, 0, stderr);
    const lines = stdout.split('\n');
    assert.match(
      lines[0] ?? '',
      /^Plan for the given target \(\d+ steps?, \d+ blockers?; nothing was changed\):$/,
    );
    const id = before!.id;
    for (const step of [
      `stopContainer:${appId}:main:${id}`,
      `removeContainer:${appId}:main:${id}`,
      `createContainer:${appId}:main:main_1_2_two`,
      `startContainer:${appId}:main:main_1_2_two`,
    ])
      assert.ok(
        lines.some((l) => l.startsWith(step)),
        `${step} in:\n${stdout}`,
      );
    const create = lines.find((l) => l.startsWith(`createContainer:${appId}:main:`)) ?? '';
    assert.match(create, new RegExp(`after \\[.*removeContainer:${appId}:main:${id}.*\\] — `));
    assert.deepEqual(await mainContainer(), before, 'release one still runs, untouched');

    // The stored target is still release one: with no file, there is nothing to do.
    const stored = await plan();
    assert.equal(stored.code, 0, stored.stderr);
    assert.equal(
      stored.stdout,
      'Nothing to do for the stored target: the device already runs it.\n',
    );
  });

  it('refuses a broken target file, naming what is wrong', async () => {
    const file = join(agent!.dir, 'broken.json');
    const body = target('three', 3, '3') as {
      local: { apps: Record<string, { services: Record<string, { image: unknown }> }> };
    };
    body.local.apps[String(appId)]!.services['1']!.image = 42;
    await writeFile(file, JSON.stringify(body));
    const bad = await plan(file);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /^bosun plan: the agent answered 400: .*local\.apps\.\d+\.services\.1\.image/,
    );
    await writeFile(file, '{"local": ');
    const broken = await plan(file);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /^bosun plan: .*JSON/);
    const missing = await plan(join(agent!.dir, 'no-such-file.json'));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no-such-file\.json/);
  });
});

describe('the stored target’s plan right after a push', function () {
  this.timeout(120_000);
  const prefix = uniquePrefix('e2e-plan-push');
  const appId = 90_000 + Math.floor(Math.random() * 5_000);
  const agent = suiteAgent(prefix);

  it('is the pushed target’s, not "no target yet" while the loop is still loading it', async () => {
    await agent().postLocalTarget(
      localTargetBody(prefix, appId, 'first', 1, TEST_IMAGES.busybox, [{ name: 'main' }]),
    );
    const { status, text } = await agent().postPlan();
    assert.equal(status, 200, text);
    const preview = JSON.parse(text) as {
      target: string;
      steps: Array<{ kind: string; appUuid: string | null }>;
    };
    assert.equal(preview.target, 'stored');
    assert.ok(
      preview.steps.some((s) => s.kind === 'createContainer' && s.appUuid === String(appId)),
      text,
    );
    // Let the apply finish: an agent stopped mid-apply can leave an engine request in flight that
    // makes its network after the clean-up looked.
    await waitUntil(
      async () =>
        ((await (await fetch(`${agent().url}/v2/state/status`)).json()) as { appState: string })
          .appState === 'applied',
      'the pushed release to be applied',
      60_000,
    );
  });
});
