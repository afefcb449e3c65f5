/**
 * The agent process, driven only through its local API (POST /v2/local/target-state, as balena-cli
 * does) and checked only through the engine: a five-service release with a network and a volume comes
 * up from nothing; changing one service's environment recreates that container only; removing a service
 * removes its container and keeps the volume.
 */
import assert from 'node:assert/strict';
import { ownedContainers, testDocker, uniquePrefix } from '../support/docker.js';
import { TEST_IMAGES } from '../support/images.js';
import { localTargetBody, type LocalService } from '../support/local-target-body.js';
import { suiteAgent } from './support/suite-agent.js';

interface Seen {
  id: string;
  name: string;
  service: string;
  state: string;
}

describe('agent process: releases through the local API', function () {
  this.timeout(300_000);
  const prefix = uniquePrefix('e2e-rec');
  const appId = 40_000 + Math.floor(Math.random() * 20_000);
  const agent = suiteAgent(prefix);

  const view = async (): Promise<Seen[]> =>
    (await ownedContainers(prefix)).sort((a, b) => a.service.localeCompare(b.service));

  /** Polls the engine until exactly these services run under this commit. */
  const converged = async (commit: string, services: string[]): Promise<Seen[]> => {
    const deadline = Date.now() + 120_000;
    let seen: Seen[] = [];
    while (Date.now() < deadline) {
      seen = await view();
      if (
        seen.length === services.length &&
        services.every((s) =>
          seen.some(
            (c) => c.service === s && c.state === 'running' && c.name.endsWith(`_${commit}`),
          ),
        )
      )
        return seen;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.fail(`not converged to ${commit}: ${JSON.stringify(seen)}`);
  };

  const push = (commit: string, releaseId: number, services: LocalService[]): Promise<void> =>
    agent().postLocalTarget(
      localTargetBody(prefix, appId, commit, releaseId, TEST_IMAGES.busybox, services),
    );

  const five = (changed: boolean): LocalService[] =>
    ['api', 'cache', 'db', 'web', 'worker'].map((name) => ({
      name,
      data: name === 'db',
      env: { N: changed && name === 'web' ? 'changed' : name },
    }));

  it('brings five services, a network and a volume up from nothing', async () => {
    await push('one', 1, five(false));
    const seen = await converged('one', ['api', 'cache', 'db', 'web', 'worker']);
    const net = await testDocker().getNetwork(`${appId}_default`).inspect();
    assert.equal(Object.keys(net.Containers ?? {}).length, 5);
    assert.equal((await testDocker().getVolume(`${appId}_data`).inspect()).Name, `${appId}_data`);
    assert.equal(seen.length, 5);
  });

  it("changing one service's environment recreates that container only", async () => {
    const before = await view();
    await push('one', 1, five(true));
    let after: Seen[] = [];
    for (let i = 0; i < 480; i++) {
      after = await view();
      const web = after.find((c) => c.service === 'web');
      if (
        after.length === 5 &&
        web !== undefined &&
        web.id !== before.find((c) => c.service === 'web')?.id &&
        web.state === 'running'
      )
        break;
      await new Promise((r) => setTimeout(r, 250));
    }
    for (const c of after) {
      const old = before.find((b) => b.service === c.service);
      if (c.service === 'web') assert.notEqual(c.id, old?.id);
      else assert.equal(c.id, old?.id, `${c.service} kept its container`);
    }
    const env = (
      await testDocker()
        .getContainer(after.find((c) => c.service === 'web')!.id)
        .inspect()
    ).Config.Env;
    assert.ok(env.includes('N=changed'));
  });

  it('removing a service removes its container and keeps its volume', async () => {
    await push(
      'two',
      2,
      five(true).filter((s) => s.name !== 'db'),
    );
    await converged('two', ['api', 'cache', 'web', 'worker']);
    assert.equal((await testDocker().getVolume(`${appId}_data`).inspect()).Name, `${appId}_data`);
  });
});
