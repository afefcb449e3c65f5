/**
 * Update windows through the agent process (the built bundle) on the real engine: the device's zone is
 * the agent's TZ (Asia/Kolkata, UTC+5:30, so a zone mistake shows); SUPERVISOR_UPDATE_WINDOW comes with
 * the local-mode target. A first install runs outside the window (nothing runs to disrupt); a new
 * release waits for the window with its container untouched and says so, then switches once the window
 * opens (the loop wakes at the opening by itself); outside the window `POST /v1/update {"force": true}`
 * goes through.
 */
import assert from 'node:assert/strict';
import type { DashboardView } from '../../src/api/dashboard-types.js';
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

const ZONE = 'Asia/Kolkata';
const MINUTE = 60_000;

/** `HH:MM` on the wall clock of ZONE at `epochMs`. */
function wallTime(epochMs: number): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: ZONE,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(epochMs);
}

interface Seen {
  id: string;
  name: string;
  state: string;
  created: number;
}

describe('agent process: update windows', function () {
  this.timeout(600_000);
  const prefix = uniquePrefix('e2e-window');
  const appId = 60_000 + Math.floor(Math.random() * 20_000);
  let agent: AgentProcess | undefined;

  const main = async (): Promise<Seen | undefined> => {
    const list = await testDocker().listContainers({
      all: true,
      filters: { label: [`${TEST_LABEL}=${prefix}`] },
    });
    const c = list.find(
      (x) => x.Labels['io.balena.service-name'] === 'main' && x.State === 'running',
    );
    return c === undefined
      ? undefined
      : { id: c.Id, name: (c.Names[0] ?? '').slice(1), state: c.State, created: c.Created * 1000 };
  };

  const push = (commit: string, releaseId: number, window: string): Promise<void> => {
    const body = localTargetBody(prefix, appId, commit, releaseId, TEST_IMAGES.busybox, [
      { name: 'main', env: { RELEASE: commit } },
    ]) as { local: { config: Record<string, string> } };
    body.local.config = { SUPERVISOR_UPDATE_WINDOW: window };
    return agent!.postLocalTarget(body);
  };

  const running = async (commit: string, deadlineMs: number): Promise<Seen> => {
    let seen: Seen | undefined;
    while (Date.now() < deadlineMs) {
      seen = await main();
      if (seen?.name.endsWith(`_${commit}`) === true) return seen;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.fail(`release ${commit} is not running: ${JSON.stringify(seen)}`);
  };

  const dashboard = async (): Promise<DashboardView> => {
    const res = await fetch(`${agent!.url}/dashboard/state`);
    assert.equal(res.status, 200);
    return (await res.json()) as DashboardView;
  };

  /** A window of 30 min whose start is the first minute boundary at least 40 s away. */
  const soon = (): { window: string; opensAt: number } => {
    const opensAt = Math.ceil((Date.now() + 40_000) / MINUTE) * MINUTE;
    return { window: `${wallTime(opensAt)}-${wallTime(opensAt + 30 * MINUTE)}`, opensAt };
  };

  before(async () => {
    await requireDocker();
    await requireRegistries();
    agent = await AgentProcess.create(prefix);
    await agent.start({ TZ: ZONE });
  });
  after(async () => {
    await agent?.remove();
    await cleanupByLabel(prefix);
  });

  it('installs the first release outside the window: nothing runs yet, so nothing is disrupted', async () => {
    const far = `${wallTime(Date.now() + 6 * 60 * MINUTE)}-${wallTime(Date.now() + 7 * 60 * MINUTE)}`;
    await push('one', 1, far);
    await running('one', Date.now() + 120_000);
  });

  it('a new release waits for its window, says so, and switches once the window opens', async () => {
    const before = await running('one', Date.now() + 10_000);
    const { window, opensAt } = soon();
    await push('two', 2, window);
    // Wait until the agent says it waits for the window (the plan has been made from this target).
    let view: DashboardView | undefined;
    for (let i = 0; i < 400; i++) {
      view = await dashboard();
      if (view.apps[0]?.services[0]?.waiting?.startsWith('waiting for the update window') === true)
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const service = view?.apps[0]?.services[0];
    // The agent prints times of day in its own zone: the same as the window's here.
    assert.equal(service?.waiting, `waiting for the update window (opens at ${wallTime(opensAt)})`);
    assert.equal(view?.apps[0]?.updateStatus, 'downloaded');
    assert.match(view?.summary ?? '', /^Waiting: waiting for the update window/);
    const stillOne = await main();
    assert.equal(stillOne?.id, before.id, 'release one keeps running, untouched');
    assert.ok(Date.now() < opensAt, 'the checks above ran before the window opened');

    const two = await running('two', opensAt + 120_000);
    // Engine creation times have a one-second resolution (hence the 1 s slack).
    assert.ok(
      two.created >= opensAt - 1000,
      `created at ${new Date(two.created).toISOString()}, the window opened at ${new Date(opensAt).toISOString()}`,
    );
    const after = await dashboard();
    assert.equal(after.apps[0]?.services[0]?.waiting, undefined);
  });

  it('outside the window POST /v1/update {"force": true} applies the release now', async () => {
    const far = `${wallTime(Date.now() + 6 * 60 * MINUTE)}-${wallTime(Date.now() + 7 * 60 * MINUTE)}`;
    await push('three', 3, far);
    for (let i = 0; i < 400; i++) {
      const view = await dashboard();
      if (view.apps[0]?.services[0]?.waiting?.startsWith('waiting for the update window') === true)
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok((await main())?.name.endsWith('_two'), 'three waits for its window');
    const res = await fetch(`${agent!.url}/v1/update`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ force: true }),
    });
    assert.equal(res.status, 204, await res.text());
    await running('three', Date.now() + 120_000);
  });
});
