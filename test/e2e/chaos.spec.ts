/**
 * Chaos: the agent is SIGKILLed at random moments during release updates, 25+ times in one run. After
 * every kill the engine must never show two running containers of one service (outside a hand-over's
 * `old_` container); after the last restart the device converges to the last target, and the named
 * volume still holds the file written into it before the first kill. Checked only through the engine.
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
import { AgentProcess } from '../support/agent-process.js';
import { localTargetBody } from '../support/local-target-body.js';
import { seededRandom } from '../support/seeded-random.js';

const KILLS = Number(process.env['BOSUN_CHAOS_KILLS'] ?? 25);
const SERVICES = ['one', 'two', 'three', 'four', 'five'];

/**
 * Release `release` of the chaos app: every release changes one service's environment (round robin)
 * and the commit of all; service `one` keeps the named volume at /data.
 */
function localTarget(prefix: string, appId: number, release: number): unknown {
  return localTargetBody(
    prefix,
    appId,
    `release${release}`,
    release,
    TEST_IMAGES.busybox,
    SERVICES.map((name, i) => ({
      name,
      env: { N: name, GEN: String(release % SERVICES.length === i ? release : 0) },
      data: name === 'one',
    })),
  );
}

interface Seen {
  name: string;
  service: string;
  state: string;
  id: string;
}

async function engineView(prefix: string): Promise<Seen[]> {
  const list = await testDocker().listContainers({
    all: true,
    filters: { label: [`${TEST_LABEL}=${prefix}`] },
  });
  return list.map((c) => ({
    id: c.Id,
    name: (c.Names[0] ?? '').replace(/^\//, ''),
    service: c.Labels['io.balena.service-name'] ?? '?',
    state: c.State,
  }));
}

function assertOneRunningPerService(view: Seen[], when: string): void {
  for (const service of SERVICES) {
    const running = view.filter(
      (c) => c.service === service && c.state === 'running' && !c.name.startsWith('old_'),
    );
    assert.ok(
      running.length <= 1,
      `${when}: ${running.length} running containers of ${service}: ${running.map((c) => c.name).join(', ')}`,
    );
  }
}

async function waitConverged(prefix: string, release: number, timeoutMs: number): Promise<Seen[]> {
  const deadline = Date.now() + timeoutMs;
  let view: Seen[] = [];
  while (Date.now() < deadline) {
    view = await engineView(prefix);
    const done =
      view.length === SERVICES.length &&
      SERVICES.every((s) =>
        view.some(
          (c) => c.service === s && c.state === 'running' && c.name.endsWith(`_release${release}`),
        ),
      );
    if (done) return view;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(
    `not converged to release${release} within ${timeoutMs} ms: ${JSON.stringify(view.map((c) => [c.name, c.state]))}`,
  );
}

async function exec(id: string, cmd: string[]): Promise<string> {
  const execution = await testDocker()
    .getContainer(id)
    .exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await execution.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  await new Promise((resolve) => stream.on('end', resolve));
  // Multiplexed frames: 8-byte headers before each payload.
  const raw = Buffer.concat(chunks);
  let out = '';
  for (let at = 0; at + 8 <= raw.length;) {
    const size = raw.readUInt32BE(at + 4);
    out += raw.subarray(at + 8, at + 8 + size).toString();
    at += 8 + size;
  }
  return out;
}

describe('chaos: SIGKILL the agent during release updates', function () {
  this.timeout(30 * 60_000);
  const prefix = uniquePrefix('chaos');
  const appId = 60_000 + Math.floor(Math.random() * 30_000);
  const seed = Number(process.env['BOSUN_CHAOS_SEED'] ?? Date.now() % 1_000_000);
  let agent: AgentProcess | undefined;

  before(async () => {
    await requireDocker();
    await requireRegistries();
  });
  after(async () => {
    await agent?.remove();
    await cleanupByLabel(prefix);
  });

  it(`converges after ${KILLS} random SIGKILLs, never runs a service twice, keeps the volume's data (seed ${seed})`, async () => {
    // Seeded, so a failing run can be replayed with BOSUN_CHAOS_SEED.
    const random = seededRandom(seed);
    agent = await AgentProcess.create(prefix);
    await agent.start();
    await agent.postLocalTarget(localTarget(prefix, appId, 1));
    const first = await waitConverged(prefix, 1, 120_000);
    const one = first.find((c) => c.service === 'one')!;
    await exec(one.id, ['sh', '-c', 'echo chaos-proof > /data/proof']);

    let release = 1;
    for (let kill = 0; kill < KILLS; kill++) {
      if (agent.child === undefined) await agent.start();
      release++;
      await agent.postLocalTarget(localTarget(prefix, appId, release));
      // Somewhere in the apply: from at once to well after it usually finishes.
      await new Promise((r) => setTimeout(r, Math.floor(random() * 4000)));
      assertOneRunningPerService(await engineView(prefix), `before kill ${kill + 1}`);
      await agent.kill();
      assertOneRunningPerService(await engineView(prefix), `after kill ${kill + 1}`);
    }

    await agent.start(); // loads the stored target (the last one posted) and finishes it
    const final = await waitConverged(prefix, release, 180_000);
    assertOneRunningPerService(final, 'at the end');
    const volumes = await testDocker().listVolumes({
      filters: { label: [`${TEST_LABEL}=${prefix}`] },
    });
    assert.deepEqual(
      (volumes.Volumes ?? []).map((v) => v.Name),
      [`${appId}_data`],
    );
    const proof = await exec(final.find((c) => c.service === 'one')!.id, ['cat', '/data/proof']);
    assert.equal(proof.trim(), 'chaos-proof');
  });
});
