/**
 * A real Prometheus (Debian's `prometheus`) scrapes the agent process, authenticated with the device
 * key as a bearer token, and PromQL over the scraped series sees the two running services and the
 * reconcile rounds. A job without the key, against an agent in managed (cloud) mode, is refused: the
 * target is down with a 401. (In local mode the API may be open on the LAN, as balena-cli expects.)
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupByLabel, requireDocker, uniquePrefix } from '../support/docker.js';
import { requireRegistries } from '../support/registry.js';
import { deviceKey, twoServiceBody, waitRunning } from './support/observe-agent.js';
import { AgentProcess, freePort } from '../support/agent-process.js';

interface PromVector {
  metric: Record<string, string>;
  value: [number, string];
}

describe('metrics: a real Prometheus scrapes the agent', function () {
  this.timeout(300_000);
  const prefix = uniquePrefix('e2e-prom');
  const appId = 40_000 + Math.floor(Math.random() * 20_000);
  let agent: AgentProcess | undefined;
  let managed: AgentProcess | undefined;
  let prometheus: ChildProcess | undefined;
  let promDir = '';
  let promUrl = '';
  let promLog = '';

  const query = async (promql: string): Promise<PromVector[]> => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { status: string; data: { result: PromVector[] } };
    assert.equal(body.status, 'success', promql);
    return body.data.result;
  };

  /** Re-runs the query until `accept` holds (each scrape is 1 s apart); fails with the last answer. */
  const eventually = async (
    promql: string,
    accept: (result: PromVector[]) => boolean,
  ): Promise<PromVector[]> => {
    const deadline = Date.now() + 90_000;
    let last: PromVector[] = [];
    while (Date.now() < deadline) {
      last = await query(promql);
      if (accept(last)) return last;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.fail(`${promql}: ${JSON.stringify(last)}\nprometheus: ${promLog.slice(-2000)}`);
  };

  before(async () => {
    await requireDocker();
    await requireRegistries();
    agent = await AgentProcess.create(prefix);
    await agent.start();
    await agent.postLocalTarget(twoServiceBody(prefix, appId, 'c0ffee1'));
    await waitRunning(prefix, 'c0ffee1', ['main', 'worker']);

    managed = await AgentProcess.create(`${prefix}-managed`);
    await managed.start({ BOSUN_LOCAL_MODE: 'false' });

    promDir = await mkdtemp(join(tmpdir(), `${prefix}-prom-`));
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    const target = new URL(agent.url).host;
    const config = [
      'global: { scrape_interval: 1s, scrape_timeout: 1s }',
      'scrape_configs:',
      '  - job_name: bosun',
      '    authorization: { type: Bearer, credentials_file: key }',
      `    static_configs: [{ targets: ['${target}'] }]`,
      '  - job_name: managed-without-key',
      `    static_configs: [{ targets: ['${new URL(managed.url).host}'] }]`,
      '',
    ].join('\n');
    await writeFile(join(promDir, 'key'), deviceKey(agent), { mode: 0o600 });
    await writeFile(join(promDir, 'prometheus.yml'), config);
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(promDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(promDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prometheus.on('error', (err) => (promLog += `spawn failed: ${err.message}`));
    prometheus.stderr?.on('data', (chunk: Buffer) => {
      promLog = (promLog + chunk.toString()).slice(-8000);
    });
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${promUrl}/-/ready`)).ok) break;
      } catch {
        // not listening yet
      }
      if (prometheus.exitCode !== null || i > 300)
        throw new Error(
          `prometheus did not start (is it installed? scripts/test-setup.sh): ${promLog}`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(async () => {
    if (prometheus !== undefined && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    if (promDir !== '') await rm(promDir, { recursive: true, force: true });
    await agent?.remove();
    await managed?.remove();
    await cleanupByLabel(prefix);
  });

  it('counts the running services and the reconcile rounds, and refuses a scrape without the key', async () => {
    const running = await eventually(
      'bosun_services{job="bosun", state="Running"}',
      (r) => r.length === 1 && r[0]!.value[1] === '2',
    );
    assert.equal(running[0]!.value[1], '2');

    const rounds = await eventually(
      'bosun_reconcile_rounds_total{job="bosun"}',
      (r) => r.length === 1,
    );
    assert.ok(Number(rounds[0]!.value[1]) > 0, `rounds: ${rounds[0]!.value[1]}`);

    // The steps that brought the services up, by kind: two containers created and started.
    const created = await query(
      'bosun_steps_total{job="bosun", kind="createContainer", outcome="ok"}',
    );
    assert.equal(created[0]?.value[1], '2');
    // Process metrics come along, and labels stay bounded: no container id anywhere in a label.
    assert.equal((await query('process_resident_memory_bytes{job="bosun"}')).length, 1);
    const series = await query('{job="bosun"}');
    for (const s of series)
      for (const value of Object.values(s.metric))
        assert.doesNotMatch(value, /^[0-9a-f]{64}$/, `label value looks like an id: ${value}`);

    type Target = { labels: { job: string }; health: string; lastError: string };
    const scraped = async (job: string): Promise<Target | undefined> => {
      const deadline = Date.now() + 30_000;
      let target: Target | undefined;
      while (Date.now() < deadline) {
        const answer = (await (await fetch(`${promUrl}/api/v1/targets`)).json()) as {
          data: { activeTargets: Target[] };
        };
        target = answer.data.activeTargets.find((t) => t.labels.job === job);
        if (target !== undefined && target.health !== 'unknown') return target;
        await new Promise((r) => setTimeout(r, 500));
      }
      return target;
    };
    const without = await scraped('managed-without-key');
    const withKey = await scraped('bosun');
    assert.equal(withKey?.health, 'up');
    assert.equal(without?.health, 'down');
    assert.match(without?.lastError ?? '', /401/);
  });
});
