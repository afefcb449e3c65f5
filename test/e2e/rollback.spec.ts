/**
 * Health-gated rollback end to end: the built agent, managed by the cloud peer, on the real engine,
 * with a confirmation window of a few seconds (SUPERVISOR_UPDATE_ROLLBACK_WINDOW from the fleet config).
 * Release 1 runs and is confirmed; release 2's service turns unhealthy and the device goes back to
 * release 1 (its containers run again, the volume marker release 1 wrote is still there, the status
 * and the peer's report say why); release 3 (fixed) is applied and confirmed; release 4 crash-loops and
 * is rolled back the same way. An agent SIGKILLed during a window, and one SIGKILLed during a rollback,
 * each still end with exactly one confirmed release. What is confirmed is read from the agent's own
 * SQLite file (read-only).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startCloudPeer, type CloudPeer, type PeerRelease } from '../support/cloud-peer/index.js';
import { waitUntil } from '../support/cloud-peer/wait.js';
import {
  cleanupByLabel,
  ownedContainers,
  requireDocker,
  TEST_LABEL,
  testDocker,
  uniquePrefix,
} from '../support/docker.js';
import { TEST_IMAGES } from '../support/images.js';
import { requireRegistries } from '../support/registry.js';
import { AgentProcess } from '../support/agent-process.js';
import { LOOP_CMD } from '../support/local-target-body.js';

const FLEET_UUID = '7b0c3d9e2a4f41d6b8e5c1a2f3d4e5b6';
const FLEET_ID = 4711;
const WINDOW_MS = 6_000;
const commit = (n: number): string => `${String(n).repeat(4)}feed`.padEnd(32, '0');
const R = [1, 2, 3, 4, 5, 6].map(commit);

/** Writes the marker only if it is not there, so a later release proves the volume kept it. */
const WRITE_MARKER = [
  'sh',
  '-c',
  'test -f /data/marker || echo release-1 > /data/marker; trap "exit 0" TERM; while true; do sleep 1 & wait $!; done',
];

type MainKind = 'good' | 'unhealthy' | 'crashing';

interface StateStatus {
  release: string | null;
  rollback: {
    failedRelease: string;
    reason: string;
    service: string | null;
    cause: string;
    rolledBackTo: string | null;
    at: string;
  } | null;
  confirmation: { release: string; until: string } | null;
}

describe('agent process: health-gated rollback', function () {
  this.timeout(300_000);
  const prefix = uniquePrefix('e2e-rollback');
  const owner = { [TEST_LABEL]: prefix };
  let peer: CloudPeer;
  let agent: AgentProcess | undefined;

  const release = (n: number, main: MainKind): PeerRelease => {
    const composition: Record<string, unknown> = {
      command: main === 'crashing' ? ['sh', '-c', 'echo boom; exit 3'] : WRITE_MARKER,
      volumes: ['data:/data'],
      stop_grace_period: '5s',
    };
    if (main === 'unhealthy')
      composition['healthcheck'] = { test: ['CMD', 'false'], interval: '1s', retries: 1 };
    return {
      id: n,
      commit: commit(n),
      services: {
        main: {
          id: 1,
          image_id: n * 10 + 1,
          image: TEST_IMAGES.busybox,
          environment: { RELEASE: String(n) },
          labels: owner,
          composition,
        },
        sidecar: {
          id: 2,
          image_id: n * 10 + 2,
          image: TEST_IMAGES.busybox,
          environment: {},
          labels: owner,
          composition: { command: LOOP_CMD, stop_grace_period: '5s' },
        },
      },
      networks: { default: { labels: owner } },
      volumes: { data: { labels: owner } },
    };
  };

  const uuid = (): string => String(agent!.configJson()['uuid']);
  const secret = (): string => String(peer.device(uuid())!.fields['api_secret']);

  const containers = async () => ownedContainers(prefix);

  /** Exactly main and sidecar of `release`, both running. */
  const running = async (release: string) => {
    const seen = await containers();
    const ok =
      seen.length === 2 &&
      ['main', 'sidecar'].every((s) =>
        seen.some(
          (c) => c.service === s && c.state === 'running' && c.name.endsWith(`_${release}`),
        ),
      );
    return ok ? seen : undefined;
  };

  const status = async (): Promise<StateStatus | undefined> => {
    try {
      const res = await fetch(`${agent!.url}/v2/state/status`, {
        headers: { Authorization: `Bearer ${secret()}` },
      });
      return res.status === 200 ? ((await res.json()) as StateStatus) : undefined;
    } catch {
      return undefined; // the agent is restarting
    }
  };

  /** The agent's release guard rows, read from its SQLite file (probed at most 4 times a second). */
  const guardRows = (): Array<{ role: string; commit: string }> => {
    const db = new Database(join(agent!.dir, 'data', 'bosun.sqlite'), {
      readonly: true,
      fileMustExist: true,
    });
    try {
      return db
        .prepare('select role, "commit" from release_guard where app_uuid = ? order by role')
        .all(FLEET_UUID) as Array<{ role: string; commit: string }>;
    } finally {
      db.close();
    }
  };

  /** Exactly one confirmed release, `release`, and nothing watched or failed unless said. */
  const confirmedOnly = async (release: string, failed?: string) => {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const rows = guardRows();
    const expected = [{ role: 'confirmed', commit: release }];
    if (failed !== undefined) expected.push({ role: 'failed', commit: failed });
    return JSON.stringify(rows) === JSON.stringify(expected) ? rows : undefined;
  };

  const marker = async (): Promise<string> => {
    const main = (await containers()).find((c) => c.service === 'main' && c.state === 'running');
    assert.ok(main, 'main runs');
    const exec = await testDocker()
      .getContainer(main.id)
      .exec({ Cmd: ['cat', '/data/marker'], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({});
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    // The multiplexed stream: skip each 8-byte frame header.
    let out = '';
    const all = Buffer.concat(chunks);
    for (let i = 0; i + 8 <= all.length;) {
      const size = all.readUInt32BE(i + 4);
      out += all.subarray(i + 8, i + 8 + size).toString();
      i += 8 + size;
    }
    return out.trim();
  };

  const push = async (n: number, main: MainKind) => {
    peer.setRelease(release(n, main));
    const res = await fetch(`${agent!.url}/v1/update`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${secret()}` },
    });
    assert.equal(res.status, 204);
  };

  /** Rolled back from `failed` to `back`: status, engine, store and the peer's report agree. */
  const rolledBack = async (failed: string, back: string, cause: string, word: string) => {
    const seen = await waitUntil(
      async () => {
        const s = await status();
        return s?.rollback?.failedRelease === failed && s.rollback.rolledBackTo === back
          ? s
          : undefined;
      },
      `a rollback from ${failed} to ${back} in the status`,
      120_000,
    );
    assert.equal(seen.rollback!.cause, cause);
    assert.equal(seen.rollback!.service, 'main');
    assert.match(seen.rollback!.reason, /service main/);
    await waitUntil(() => running(back), `${back} running again`, 120_000);
    // The system log says it too (the on-device spool the cloud log stream ships from).
    await waitUntil(
      async () => {
        const res = await fetch(`${agent!.url}/v2/logs/recent`, {
          headers: { Authorization: `Bearer ${secret()}` },
        });
        const body = (await res.json()) as { lines?: Array<{ message: string }> };
        return body.lines?.some(
          (l) =>
            l.message.includes(`Release ${failed}`) &&
            l.message.includes('failed its confirmation window') &&
            l.message.includes(`rolling back to release ${back}`),
        );
      },
      `a system line about ${failed}`,
      30_000,
    );
    await waitUntil(() => confirmedOnly(back, failed), `${back} still the one confirmed`);
    const device = peer.device(uuid())!;
    await waitUntil(
      () =>
        device.runningRelease[FLEET_UUID] === back &&
        device.imageInstalls[`${failed}/main`]?.status === word &&
        device.reports.some((r) => {
          const apps = r.body['apps'] as
            Record<string, { releases?: Record<string, { update_status?: string }> }> | undefined;
          return apps?.[FLEET_UUID]?.releases?.[failed]?.update_status === 'aborted';
        }),
      `a report of ${failed} aborted (${word}) with ${back} running`,
      60_000,
    );
  };

  before(async () => {
    await requireDocker();
    await requireRegistries();
    peer = await startCloudPeer({
      fleet: {
        id: FLEET_ID,
        uuid: FLEET_UUID,
        config: {
          RESIN_SUPERVISOR_POLL_INTERVAL: '10000',
          BALENA_SUPERVISOR_UPDATE_ROLLBACK_WINDOW: String(WINDOW_MS),
        },
      },
      minPollIntervalMs: 10_000,
    });
    peer.setRelease(release(1, 'good'));
    agent = await AgentProcess.create(prefix, { peer: peer, fleetId: FLEET_ID });
  });
  after(async () => {
    await agent?.remove();
    await cleanupByLabel(prefix);
    await peer?.close();
  });

  it('release 1 runs and is confirmed after its window', async function () {
    await agent!.start();
    await waitUntil(() => running(R[0]!), 'release 1 running', 180_000);
    await waitUntil(() => confirmedOnly(R[0]!), 'release 1 confirmed', 120_000);
    assert.equal(await marker(), 'release-1');
    const s = await status();
    assert.equal(s?.rollback, null);
    assert.equal(s?.confirmation, null);
  });

  it('release 2 turns unhealthy inside its window: back to release 1, volume kept, status and report say why', async function () {
    await push(2, 'unhealthy');
    // The window opens once release 2 runs: the status shows it.
    const watched = await waitUntil(
      async () => {
        const s = await status();
        return s?.confirmation?.release === R[1] || s?.rollback?.failedRelease === R[1]
          ? s
          : undefined;
      },
      'release 2 watched',
      120_000,
    );
    await rolledBack(R[1]!, R[0]!, 'unhealthy', 'Unhealthy');
    assert.equal(await marker(), 'release-1', 'the volume is untouched');
    if (watched.confirmation !== null) {
      // Failed inside the window that the status announced, not at its end.
      const s = await status();
      assert.ok(
        s?.rollback !== null &&
          s?.rollback !== undefined &&
          s.rollback.at <= watched.confirmation.until,
        JSON.stringify({ watched, s }),
      );
    }
    // No rollback loop: a new poll brings the same target, and release 2 is not tried again.
    const polls = peer.requests.length;
    await fetch(`${agent!.url}/v1/update`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${secret()}` },
    });
    await waitUntil(
      () =>
        peer.requests
          .slice(polls)
          .some((r) => r.path.endsWith('/state') && r.method === 'GET' && r.status !== undefined),
      'another target poll',
      60_000,
    );
    assert.ok(await running(R[0]!), 'still release 1');
  });

  it('release 3 (fixed) is applied and confirmed; the failure is forgotten', async function () {
    await push(3, 'good');
    await waitUntil(() => running(R[2]!), 'release 3 running', 120_000);
    await waitUntil(() => confirmedOnly(R[2]!), 'release 3 confirmed', 120_000);
    assert.equal(await marker(), 'release-1', 'the volume is still the same');
    const s = await status();
    assert.equal(s?.rollback, null);
  });

  it('release 4 crash-loops: rolled back to release 3 the same way', async function () {
    await push(4, 'crashing');
    await rolledBack(R[3]!, R[2]!, 'crashLoop', 'Dead');
    assert.equal(await marker(), 'release-1');
  });

  it('SIGKILLed during the window of a good release 5: after the restart it is confirmed, once', async function () {
    await push(5, 'good');
    await waitUntil(
      async () => ((await status())?.confirmation?.release === R[4] ? true : undefined),
      'release 5 in its window',
      120_000,
    );
    await waitUntil(async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return guardRows().some((r) => r.role === 'watching' && r.commit === R[4]);
    }, 'the window of release 5 stored');
    await agent!.kill();
    assert.deepEqual(
      guardRows(),
      [
        { role: 'confirmed', commit: R[2] },
        { role: 'watching', commit: R[4] },
      ],
      'killed inside the window (release 3 still the confirmed one)',
    );
    await agent!.start();
    await waitUntil(() => confirmedOnly(R[4]!), 'release 5 confirmed after the restart', 120_000);
    assert.ok(await running(R[4]!));
  });

  it('SIGKILLed during the rollback of release 6: after the restart it ends on release 5, confirmed', async function () {
    await push(6, 'crashing');
    await waitUntil(
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 250));
        return guardRows().some((r) => r.role === 'failed' && r.commit === R[5]);
      },
      'release 6 failed',
      120_000,
    );
    await agent!.kill();
    await agent!.start();
    await rolledBack(R[5]!, R[4]!, 'crashLoop', 'Dead');
    assert.equal(await marker(), 'release-1');
  });
});
