/**
 * Done-when of issue 12 under load, through the running agent in local mode: one container prints
 * 20,000 lines per second for 30 s. The agent's RSS stays within 30 MB of its idle value, another
 * service's lines keep flowing (read back from the spool over GET /v2/logs/recent, none lost: the
 * per-service bound keeps the flood to its own service), and a target change pushed during the burst
 * is applied before the burst ends.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { TEST_LABEL, testDocker, uniquePrefix } from '../support/docker.js';
import { TEST_IMAGES } from '../support/images.js';
import { localTargetBody, type LocalService } from '../support/local-target-body.js';
import { suiteAgent } from './support/suite-agent.js';

const MB = 1024 * 1024;
/** 2,000 lines, then a pause: about 20,000 lines/s (this busybox loop prints ~50,000/s flat out). */
const BURST = [
  'sh',
  '-c',
  [
    'while [ ! -e /tmp/go ]; do usleep 50000; done',
    'i=0; end=$(( $(date +%s) + 30 ))',
    'while [ $(date +%s) -lt $end ]; do j=0; while [ $j -lt 2000 ]; do echo "burst $i"; i=$((i+1)); j=$((j+1)); done; usleep 60000; done',
    'echo "burst done $i"; exec sleep 3600',
  ].join('; '),
];
const TICKER = ['sh', '-c', 'i=0; while true; do echo "tick $i"; i=$((i+1)); usleep 100000; done'];

interface Line {
  message: string;
  timestamp: number;
}

describe('e2e: a log burst does not starve the agent', function () {
  this.timeout(240_000);
  const prefix = uniquePrefix('e2e-burst');
  const appId = 60_000 + Math.floor(Math.random() * 20_000);
  const agent = suiteAgent(prefix);

  const rss = async (): Promise<number> => {
    const status = await readFile(`/proc/${agent().child?.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
  };

  const recent = async (service: string, since = 0, limit = 10_000): Promise<Line[]> => {
    const res = await fetch(
      `${agent().url}/v2/logs/recent?service=${service}&since=${since}&limit=${limit}`,
    );
    assert.equal(res.status, 200);
    return ((await res.json()) as { lines: Line[] }).lines;
  };

  const body = (services: LocalService[]): unknown => {
    const doc = localTargetBody(prefix, appId, 'one', 1, TEST_IMAGES.busybox, services) as {
      local: {
        apps: Record<
          string,
          { services: Record<string, { serviceName: string; command: string[] }> }
        >;
      };
    };
    for (const s of Object.values(doc.local.apps[String(appId)]!.services)) {
      if (s.serviceName === 'burst') s.command = BURST;
      if (s.serviceName === 'ticker') s.command = TICKER;
    }
    return doc;
  };

  const running = async (): Promise<Map<string, string>> => {
    const list = await testDocker().listContainers({
      filters: { label: [`${TEST_LABEL}=${prefix}`] },
    });
    return new Map(list.map((c) => [c.Labels['io.balena.service-name'] ?? '', c.Id]));
  };

  const waitFor = async (what: string, test: () => Promise<boolean>): Promise<void> => {
    const deadline = Date.now() + 120_000;
    while (!(await test())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  it('20,000 lines/s for 30 s: bounded RSS, other services flow, a target change is applied', async () => {
    const two: LocalService[] = [{ name: 'burst' }, { name: 'ticker' }];
    await agent().postLocalTarget(body(two));
    await waitFor('burst and ticker running', async () => (await running()).size === 2);
    await waitFor('ticker lines in the spool', async () => (await recent('ticker')).length >= 5);
    const idle = await rss();

    const burstId = (await running()).get('burst')!;
    const exec = await testDocker()
      .getContainer(burstId)
      .exec({ Cmd: ['touch', '/tmp/go'], AttachStdout: false, AttachStderr: false });
    await exec.start({ Detach: true });
    const started = Date.now();
    await waitFor('the burst to begin', async () => (await recent('burst', started, 1)).length > 0);

    let peak = idle;
    const sample = setInterval(() => {
      rss().then(
        (v) => (peak = Math.max(peak, v)),
        () => undefined,
      );
    }, 250);
    try {
      // A change during the burst: a third service. The other two must be left as they are.
      await agent().postLocalTarget(body([...two, { name: 'late' }]));
      await waitFor('the late service running', async () => (await running()).has('late'));
      const newestAtChange = await recent('burst', started, 1);
      assert.ok(
        !newestAtChange.some((l) => l.message.startsWith('burst done')),
        'the target change was applied while the burst was still going',
      );
      await waitFor('the burst to end', async () =>
        (await recent('burst', started, 1)).some((l) => l.message.startsWith('burst done')),
      );
    } finally {
      clearInterval(sample);
    }
    assert.equal((await running()).get('burst'), burstId, 'the burst container was not recreated');

    const burst = await recent('burst', started, 1);
    const total = Number(/burst done (\d+)/.exec(burst.at(-1)!.message)?.[1]);
    assert.ok(total >= 300_000, `the container printed a real burst (${total} lines)`);

    // The ticker's lines kept coming through the whole burst, without a gap.
    const ticks = (await recent('ticker', started)).map((l) => Number(l.message.split(' ')[1]));
    assert.ok(ticks.length >= 100, `ticker lines during the burst: ${ticks.length}`);
    for (let i = 1; i < ticks.length; i++) assert.equal(ticks[i], (ticks[i - 1] as number) + 1);

    assert.ok(
      peak - idle <= 30 * MB,
      `RSS grew by ${((peak - idle) / MB).toFixed(1)} MB (idle ${(idle / MB).toFixed(1)} MB)`,
    );

    const bad = await fetch(`${agent().url}/v2/logs/recent?service=ticker&since=yesterday`);
    assert.equal(bad.status, 400);
  });
});
