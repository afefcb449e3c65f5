/**
 * An engine out of network address ranges, through the running agent (the built bundle) on a private
 * dockerd whose default address pool holds a single /24, so one network takes it all. Docker answers
 * the agent's create-network with a 404 ("could not find an available, non-overlapping IPv4 address
 * pool"); nothing is missing, the machine is full. The agent must say so, hold only that app, and try
 * again soon enough to come up once a range frees, not park the network at the five-minute backoff cap
 * as it does for a request that can never succeed: a network removed on the engine ends the wait at
 * once. (A CI run once lost its last app of six this way.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { requireDocker, uniquePrefix } from '../support/docker.js';
import { TEST_IMAGES } from '../support/images.js';
import { requireRegistries } from '../support/registry.js';
import { startTmpfsEngine, type TmpfsEngine } from '../support/tmpfs-engine.js';
import { AgentProcess } from '../support/agent-process.js';
import { localTargetBody } from '../support/local-target-body.js';
import { waitUntil } from '../support/cloud-peer/wait.js';

const run = promisify(execFile);

interface PlanBlocker {
  kind: string;
  appUuid: string | null;
  until: number | null;
  text: string;
}

interface StateStatus {
  appState: string;
  containers: Array<{ serviceName: string; status: string }>;
}

/** Far below the 300 s cap a request that cannot succeed waits; a few doublings of 2 s stay under. */
const RETRY_SOON_MS = 120_000;

describe('agent process: the engine has no free network address range', function () {
  this.timeout(300_000);
  const prefix = uniquePrefix('e2e-pool');
  const appId = 33_000 + Math.floor(Math.random() * 1000);
  let tmpfs: TmpfsEngine | undefined;
  let agent: AgentProcess | undefined;

  const docker = async (...args: string[]): Promise<string> =>
    (await run('docker', args, { env: { ...process.env, DOCKER_HOST: `unix://${tmpfs!.socket}` } }))
      .stdout;

  before(async function () {
    await requireDocker();
    await requireRegistries();
    // One /24 of the test-net-3 documentation range: nothing on the host routes it.
    tmpfs = await startTmpfsEngine({ size: '300m', addressPool: 'base=203.0.113.0/24,size=24' });
    agent = await AgentProcess.create(prefix);
    // Info: the log says when a removed network releases the wait.
    await agent.start({ BOSUN_ENGINE_SOCKET: tmpfs.socket, BOSUN_LOG_LEVEL: 'info' });
  });

  after(async function () {
    await agent?.remove().catch((err: unknown) => console.error('agent:', err));
    await tmpfs?.stop();
  });

  async function planBlockers(): Promise<PlanBlocker[]> {
    const { status, text } = await agent!.postPlan();
    assert.equal(status, 200, text);
    return (JSON.parse(text) as { blockers: PlanBlocker[] }).blockers;
  }

  async function status(): Promise<StateStatus> {
    return (await (await fetch(`${agent!.url}/v2/state/status`)).json()) as StateStatus;
  }

  /** Waits for `probe` (test/support/cloud-peer/wait.ts); a timeout also says what was seen last. */
  async function until<T>(
    probe: () => Promise<T | undefined>,
    what: string,
    seen: () => unknown,
  ): Promise<T> {
    return waitUntil(probe, what, 100_000).catch((err: unknown) =>
      assert.fail(
        `${String(err)}; last seen ${JSON.stringify(seen())}\n${agent!.output().slice(-2000)}`,
      ),
    );
  }

  it('holds the app with the engine’s reason, and brings it up soon after a range frees', async function () {
    await docker('network', 'create', `${prefix}-squatter`);
    const body = localTargetBody(prefix, appId, 'c1', 1, TEST_IMAGES.busybox, [
      { name: 'main' },
    ]) as { local: { config: Record<string, string> } };
    // The default disk reserve is for an SD card, larger than this engine's tmpfs.
    body.local.config = { SUPERVISOR_DISK_RESERVE: '16M' };
    await agent!.postLocalTarget(body);

    let blockers: PlanBlocker[] = [];
    const blocker = await until(
      async () => {
        blockers = await planBlockers();
        return blockers.find((b) => b.kind === 'backoff' && /address pool/.test(b.text));
      },
      'the plan to show the network held back with the engine’s reason',
      () => blockers,
    );
    assert.equal(blocker.appUuid, String(appId), blocker.text);
    assert.ok(blocker.text.includes(`${appId}_default`), blocker.text);
    assert.ok(
      blocker.until !== null && blocker.until - Date.now() < RETRY_SOON_MS,
      `held until ${blocker.until} (${((blocker.until ?? 0) - Date.now()) / 1000} s from now): parked as if it could never succeed`,
    );
    assert.equal((await docker('ps', '--all', '--quiet')).trim(), '', 'no container was made');

    await docker('network', 'rm', `${prefix}-squatter`);
    let last: StateStatus | undefined;
    await until(
      async () => {
        last = await status();
        return last.appState === 'applied' && last.containers.some((c) => c.status === 'Running')
          ? last
          : undefined;
      },
      'the app to run once the range is free',
      () => last,
    );
    // Not at the end of its backoff: the engine's network-destroy event released the wait.
    assert.match(agent!.logText, /reconciler\.address-range-freed/);
    const subnet = await docker(
      'network',
      'inspect',
      `${appId}_default`,
      '--format',
      '{{range .IPAM.Config}}{{.Subnet}}{{end}}',
    );
    assert.equal(subnet.trim(), '203.0.113.0/24');
  });
});
