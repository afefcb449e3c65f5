import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { AgentMetrics } from '../../../src/observability/agent-metrics.js';

function metrics(states: Map<string, number> = new Map()): AgentMetrics {
  return new AgentMetrics({
    version: '1.2.3',
    localMode: true,
    serviceStates: () => states,
    processMetrics: false,
  });
}

describe('AgentMetrics: the Prometheus text format', () => {
  it('renders what was recorded, with bounded labels', async () => {
    const m = metrics(
      new Map([
        ['Running', 2],
        ['Downloading', 1],
      ]),
    );
    m.planned({ blockers: [{ kind: 'locked' }, { kind: 'locked' }, { kind: 'backoff' }] });
    m.roundEnded(120);
    m.stepEnded('startContainer', 'ok');
    m.stepEnded('startContainer', 'ok');
    m.stepEnded('pullImage', 'failed');
    m.imagePulled(1_000);
    m.engineRequest('GET', 'ok');
    m.apiRequest({
      route: '/v2/applications/:appId/restart',
      method: 'POST',
      status: 200,
      seconds: 0.02,
    });
    m.logLine('captured', 5);
    m.cloudPoll('ok');
    m.cloudBytes('received', 512);
    const { body, contentType } = await m.render();
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    for (const line of [
      'bosun_info{version="1.2.3",mode="local"} 1',
      'bosun_services{state="Running"} 2',
      'bosun_services{state="Downloading"} 1',
      'bosun_reconcile_rounds_total 1',
      'bosun_reconcile_round_duration_seconds_count 1',
      'bosun_blockers{kind="locked"} 2',
      'bosun_steps_total{kind="startContainer",outcome="ok"} 2',
      'bosun_steps_total{kind="pullImage",outcome="failed"} 1',
      'bosun_images_pulled_total 1',
      'bosun_image_pull_bytes_total 1000',
      'bosun_engine_requests_total{method="GET",outcome="ok"} 1',
      'bosun_api_requests_total{route="/v2/applications/:appId/restart",method="POST",status="200"} 1',
      'bosun_log_lines_total{outcome="captured"} 5',
      'bosun_log_lines_total{outcome="dropped"} 0',
      'bosun_cloud_polls_total{outcome="ok"} 1',
      'bosun_cloud_bytes_total{direction="received"} 512',
    ])
      assert.ok(body.split('\n').includes(line), `missing: ${line}\n${body}`);
    // The next plan replaces the blockers: a gauge of now, not a running count.
    m.planned({ blockers: [] });
    assert.doesNotMatch((await m.render()).body, /bosun_blockers\{/);
  });

  it('keeps one registry per instance (no global state between agents)', async () => {
    const a = metrics();
    const b = metrics();
    a.stepEnded('createContainer', 'ok');
    assert.match(
      (await a.render()).body,
      /bosun_steps_total\{kind="createContainer",outcome="ok"\} 1/,
    );
    assert.doesNotMatch((await b.render()).body, /bosun_steps_total\{/);
  });
});

describe('AgentMetrics: process metrics without a sampler that keeps the agent awake', () => {
  it('registers the process and Node.js metrics, measures event loop lag only when scraped', async () => {
    // prom-client's collectDefaultMetrics starts monitorEventLoopDelay (a 10 ms timer for ever):
    // 5,500 wake-ups per idle minute (issue 16). Count whether anything starts it now.
    const perfHooks = createRequire(import.meta.url)('node:perf_hooks') as {
      monitorEventLoopDelay: (...args: unknown[]) => unknown;
    };
    const original = perfHooks.monitorEventLoopDelay;
    let samplers = 0;
    perfHooks.monitorEventLoopDelay = (...args: unknown[]) => {
      samplers++;
      return original(...args);
    };
    let m: AgentMetrics;
    try {
      m = new AgentMetrics({ version: '1', localMode: true, serviceStates: () => new Map() });
    } finally {
      perfHooks.monitorEventLoopDelay = original;
    }
    assert.equal(samplers, 0, 'no event-loop-delay sampler');
    const { body } = await m.render();
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'process_start_time_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_version_info',
      'nodejs_gc_duration_seconds',
    ])
      assert.match(body, new RegExp(`^# TYPE ${name} `, 'm'), name);
    const lag = /^nodejs_eventloop_lag_seconds (\S+)$/m.exec(body);
    assert.ok(lag !== null, 'event loop lag measured at scrape time');
    assert.ok(Number(lag[1]) > 0 && Number(lag[1]) < 60, `lag ${lag[1]} s`);
  });
});
