/**
 * The disk preflight through the running agent (the built bundle) on a private dockerd whose data root
 * is a 300 MB tmpfs: a local-mode target whose config var SUPERVISOR_DISK_RESERVE leaves no room for the
 * release waits with "Insufficient storage" in /v2/state/status, nothing downloaded, the old release
 * running; the same release with a smaller reserve applies.
 */
import assert from 'node:assert/strict';
import { DockerEngine } from '../../src/engine/docker-engine.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { requireDocker, uniquePrefix } from '../support/docker.js';
import { TEST_IMAGES } from '../support/images.js';
import { requireRegistries } from '../support/registry.js';
import { startTmpfsEngine, type TmpfsEngine } from '../support/tmpfs-engine.js';
import { AgentProcess } from '../support/agent-process.js';
import { localTargetBody } from '../support/local-target-body.js';

interface StateStatus {
  appState: string;
  containers: Array<{ serviceName: string; status: string }>;
  images: Array<{ name: string; status: string; dockerImageId: string | null }>;
}

describe('agent process: disk preflight on a 300 MB data root', function () {
  this.timeout(300_000);
  const prefix = uniquePrefix('e2e-preflight');
  const appId = 31_000 + Math.floor(Math.random() * 1000);
  let tmpfs: TmpfsEngine | undefined;
  let agent: AgentProcess | undefined;
  let engine: DockerEngine | undefined;

  before(async function () {
    await requireDocker();
    await requireRegistries();
    tmpfs = await startTmpfsEngine({ size: '300m' });
    engine = new DockerEngine({
      socketPath: tmpfs.socket,
      logger: silentLogger(),
      clock: systemClock,
    });
    agent = await AgentProcess.create(prefix);
    await agent.start({ BOSUN_ENGINE_SOCKET: tmpfs.socket });
  });

  after(async function () {
    await agent?.remove().catch((err: unknown) => console.error('agent:', err));
    await engine?.close();
    await tmpfs?.stop();
  });

  function target(commit: string, releaseId: number, image: string, reserve: string): unknown {
    const body = localTargetBody(prefix, appId, commit, releaseId, image, [{ name: 'main' }]) as {
      local: { config: Record<string, string> };
    };
    body.local.config = { SUPERVISOR_DISK_RESERVE: reserve };
    return body;
  }

  async function status(): Promise<StateStatus> {
    const res = await fetch(`${(agent as AgentProcess).url}/v2/state/status`);
    assert.equal(res.status, 200);
    return (await res.json()) as StateStatus;
  }

  /** Polls the status until `done` holds (bounded: fails loudly with the last status). */
  async function until(done: (s: StateStatus) => boolean, what: string): Promise<StateStatus> {
    let last: StateStatus | undefined;
    for (let i = 0; i < 600; i++) {
      last = await status();
      if (done(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.fail(`${what}: last status ${JSON.stringify(last)}\n${agent?.stderrTail ?? ''}`);
  }

  async function imagesOnEngine(): Promise<string[]> {
    return (await (engine as DockerEngine).listImages()).flatMap((i) => i.repoTags);
  }

  it('waits with "Insufficient storage" while the reserve leaves no room, and applies with a smaller one', async function () {
    const a = agent as AgentProcess;
    await a.postLocalTarget(target('c1', 1, TEST_IMAGES.busybox, '16M'));
    await until(
      (s) => s.appState === 'applied' && s.containers.some((c) => c.status === 'Running'),
      'release 1 runs',
    );

    // 300 MB less a 270 MiB reserve leaves about 10 MB: large:1 needs about 3 x 38 MB.
    await a.postLocalTarget(target('c2', 2, TEST_IMAGES.large, '270M'));
    const blocked = await until(
      (s) => s.images.some((i) => i.status === 'Insufficient storage'),
      'release 2 waits for disk space',
    );
    assert.deepEqual(
      blocked.images.map((i) => [i.name, i.status, i.dockerImageId]),
      [[TEST_IMAGES.large, 'Insufficient storage', null]],
    );
    assert.ok(!(await imagesOnEngine()).includes(TEST_IMAGES.large), 'nothing downloaded');

    await a.postLocalTarget(target('c2', 2, TEST_IMAGES.large, '16M'));
    await until(
      (s) =>
        s.appState === 'applied' &&
        s.images.every((i) => i.status === 'Downloaded') &&
        s.containers.some((c) => c.status === 'Running'),
      'release 2 applies with the smaller reserve',
    );
    assert.ok((await imagesOnEngine()).includes(TEST_IMAGES.large));
  });
});
