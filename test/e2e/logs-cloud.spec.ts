/**
 * Done-when of issue 12, through the running agent (the built bundle, as bin/bosun runs it), managed by
 * the one cloud peer that serves target, reports and the log stream: the device provisions, runs the
 * release (a counter printing 100,000 numbered lines, and a service printing hostile output), and its
 * lines reach the peer while the log stream is down for part of the run and the agent is SIGKILLed
 * twice. In the end the peer holds every number in order, except numbers the spool dropped, which equal
 * the drop counts announced in the stream exactly; a number arrives twice only from a batch that was in
 * flight at a kill or an outage, at most one batch each.
 */
import assert from 'node:assert/strict';
import { cleanupByLabel, requireDocker, TEST_LABEL, uniquePrefix } from '../support/docker.js';
import { TEST_IMAGES } from '../support/images.js';
import { requireRegistries } from '../support/registry.js';
import { startLogCloudPeer, type LogCloudPeer } from '../support/cloud-peer/with-log-stream.js';
import { AgentProcess } from '../support/agent-process.js';

const TOTAL = 100_000;
const BATCH_LINES = 2000;
const FLEET_ID = 12;
const DROP =
  /^Warning: Dropped (\d+) line\(s\) of service 'counter' because the log spool was full$/;

async function until(what: string, test: () => boolean, ms = 180_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('e2e: cloud log stream across SIGKILLs and an outage', function () {
  this.timeout(300_000);
  const prefix = uniquePrefix('e2e-logs');
  const owner = { [TEST_LABEL]: prefix };
  let agent: AgentProcess;
  let cloud: LogCloudPeer;

  before(async () => {
    await requireDocker();
    await requireRegistries();
    cloud = await startLogCloudPeer({
      fleet: { id: FLEET_ID, config: { RESIN_SUPERVISOR_POLL_INTERVAL: '10000' } },
      minPollIntervalMs: 10_000,
    });
    cloud.peer.setRelease({
      id: 1,
      commit: 'dddd0000dddd0000dddd0000dddd0012',
      services: {
        counter: {
          id: 7,
          image_id: 71,
          image: TEST_IMAGES.busybox,
          environment: {},
          labels: owner,
          composition: {
            command: [
              'sh',
              '-c',
              `i=1; while [ $i -le ${TOTAL} ]; do echo "n $i"; [ $((i % 1000)) -eq 0 ] && usleep 100000; i=$((i+1)); done; exec sleep 3600`,
            ],
            stop_grace_period: '2s',
          },
        },
        hostile: {
          id: 8,
          image_id: 81,
          image: TEST_IMAGES.busybox,
          environment: {},
          labels: owner,
          composition: {
            command: [
              'sh',
              '-c',
              [
                "printf 'bad \\377\\376 utf8\\n'",
                "head -c 1048576 /dev/zero | tr '\\0' x; echo",
                'head -c 65536 /dev/urandom',
                'echo; echo "after hostile"',
                'exec sleep 3600',
              ].join('; '),
            ],
            stop_grace_period: '2s',
          },
        },
      },
      networks: { default: { labels: owner } },
    });
    agent = await AgentProcess.create(prefix, { peer: cloud.peer, fleetId: FLEET_ID });
  });

  after(async () => {
    await agent?.remove();
    await cleanupByLabel(prefix);
    await cloud?.close();
  });

  const env = {
    BOSUN_LOCAL_MODE: 'false',
    BOSUN_LOG_STREAM_BATCH: `${BATCH_LINES},1048576,500`,
    BOSUN_LOG_STREAM_BACKOFF_MS: '100,1000',
    // Small bounds, so the outage overflows the spool and drops must be counted and announced.
    BOSUN_LOG_SPOOL_MAX_BYTES: String(2 * 1024 * 1024),
    BOSUN_LOG_SPOOL_MAX_SERVICE_BYTES: String(1024 * 1024),
  };

  function counter(): { n: number; request: number }[] {
    return cloud.logs.lines
      .filter((l) => l.serviceId === 7)
      .map((l) => ({ n: Number(l.message.slice(2)), request: l.request }));
  }
  const distinct = (): number => new Set(counter().map((l) => l.n)).size;
  /** Sum of the drop notices, each counted once (a notice in a repeated batch arrives twice). */
  const announced = (): number => {
    const notices = new Map<string, number>();
    for (const l of cloud.logs.lines) {
      const count = l.isSystem ? DROP.exec(l.message)?.[1] : undefined;
      if (count !== undefined) notices.set(`${l.timestamp} ${l.message}`, Number(count));
    }
    return [...notices.values()].reduce((a, b) => a + b, 0);
  };

  /** `bosun_log_lines_total` by outcome, scraped from the agent's /metrics with the device-wide key. */
  async function logLineMetrics(): Promise<Record<string, number>> {
    const uuid = String(agent.configJson()['uuid']);
    const secret = String(cloud.peer.device(uuid)?.fields['api_secret']);
    const res = await fetch(`${agent.url}/metrics`, {
      headers: { Authorization: `Bearer ${secret}` },
    });
    assert.equal(res.status, 200);
    const counts: Record<string, number> = {};
    for (const m of (await res.text()).matchAll(
      /^bosun_log_lines_total\{outcome="(\w+)"\} (\d+)/gm,
    ))
      counts[m[1] as string] = Number(m[2]);
    return counts;
  }

  it('delivers every number in order, or announces exactly the ones it dropped', async () => {
    // The agent provisions, fetches the release from the peer and starts the counter itself.
    await agent.start(env);
    await until('15,000 lines at the peer', () => distinct() >= 15_000);
    await agent.kill(); // 1st SIGKILL, mid-stream
    await agent.start(env);

    await until('40,000 lines at the peer', () => distinct() >= 40_000);
    const beforeOutage = await logLineMetrics();
    cloud.setDown(true); // outage: the stream is reset, reconnects refused
    await new Promise((r) => setTimeout(r, 3000));
    cloud.setDown(false);

    await until('70,000 lines at the peer', () => distinct() + announced() >= 70_000);
    // The metrics saw it: more lines shipped, and the outage's drops counted (same process).
    const afterOutage = await logLineMetrics();
    assert.ok(afterOutage['shipped']! > beforeOutage['shipped']!, JSON.stringify(afterOutage));
    assert.ok(afterOutage['dropped']! > beforeOutage['dropped']!, JSON.stringify(afterOutage));
    assert.ok(afterOutage['captured']! > beforeOutage['captured']!);
    await agent.kill(); // 2nd SIGKILL
    await agent.start(env);

    await until('every number delivered or announced', () => distinct() + announced() >= TOTAL);
    // Let the last batch be answered, then stop: nothing more may arrive.
    await until('no stream open', () => cloud.logs.requests.every((r) => r.fate !== 'open'));
    await agent.stop();

    const lines = counter();
    const first = new Map<number, number>(); // number → request of its first copy
    let last = 0;
    let missing = 0;
    const repeatedFrom = new Map<number, number>(); // request → repeated lines from it
    for (const { n, request } of lines) {
      const firstRequest = first.get(n);
      if (firstRequest !== undefined) {
        repeatedFrom.set(firstRequest, (repeatedFrom.get(firstRequest) ?? 0) + 1);
        continue;
      }
      assert.ok(n > last, `number ${n} arrived after ${last}: out of order`);
      missing += n - last - 1;
      last = n;
      first.set(n, request);
    }
    missing += TOTAL - last;
    assert.equal(last, TOTAL, 'the last number arrived');
    assert.equal(missing, announced(), 'missing numbers equal the announced drop counts');
    assert.ok(announced() > 0, 'the outage overflowed the spool (the bound was exercised)');
    // Repeats: only from batches in flight at one of the 2 kills or the outage, one batch each.
    assert.ok(repeatedFrom.size <= 3, `repeats came from ${repeatedFrom.size} batches`);
    for (const [request, count] of repeatedFrom) {
      assert.ok(count <= BATCH_LINES, `request ${request} repeated ${count} lines`);
      const fate = cloud.logs.requests[request]?.fate;
      assert.ok(fate === 'cut' || fate === 'answered', `request ${request} was ${fate}`);
    }
    const cutOrUnsaved = [...repeatedFrom.keys()].filter(
      (r) => cloud.logs.requests[r]?.fate === 'answered',
    );
    assert.ok(
      cutOrUnsaved.length <= 2,
      'an answered batch repeats only when a kill beat its acknowledgement to disk',
    );
  });
  it('ships invalid UTF-8, a 1 MB line and binary output without breaking the stream', async () => {
    // The hostile service runs in the same release: its output went through the same run.
    await agent.start(env);
    const hostile = () => cloud.logs.lines.filter((l) => l.serviceId === 8);
    await until('the line after the hostile output', () =>
      hostile().some((l) => l.message === 'after hostile'),
    );
    const lines = hostile();
    assert.ok(lines.some((l) => l.message.startsWith('bad ') && l.message.endsWith(' utf8')));
    const long = lines.find((l) => l.message.startsWith('xxxx'));
    assert.equal(long?.message.length, 10_000, 'the 1 MB line is cut to 10,000 characters');
    assert.ok(long?.message.endsWith('[...]'));
    assert.ok(lines.length >= 4, 'binary output arrived as lines too');
    // Every stream since was answered 201 (none ended with a parse error).
    await until('no stream open', () => cloud.logs.requests.every((r) => r.fate !== 'open'));
    const statuses = cloud.logs.requests.map((r) => r.status ?? r.fate);
    assert.ok(
      statuses.every((s) => s === 201 || s === 'cut'),
      `answers: ${statuses.join(',')}`,
    );
    await agent.stop();
  });
});
