/**
 * bosun's Prometheus metrics (GET /metrics). One registry per agent, made by the composition root and
 * handed to whoever records (no prom-client global registry: two agents in one test process must not
 * share counters). Recording is a counter increment; gauges that describe state (services by state)
 * are computed when scraped, from the same in-memory snapshot the API serves, so nothing here adds
 * work to the reconcile loop.
 *
 * Labels are bounded on purpose: step kinds, blocker kinds, outcomes, status words, HTTP methods,
 * route templates and status codes. Never container ids, image names or free text.
 */
// Each class from its own module: prom-client's index would load the Pushgateway's HTTPS client and
// more (prom-client-collectors.d.ts).
import Counter from 'prom-client/lib/counter.js';
import Gauge from 'prom-client/lib/gauge.js';
import Histogram from 'prom-client/lib/histogram.js';
import Registry from 'prom-client/lib/registry.js';
import type { CloudMetrics, LogLineOutcome, LogMetrics } from './hooks.js';
import { collectProcessMetrics } from './process-metrics.js';

export interface AgentMetricsOptions {
  version: string;
  localMode: boolean;
  /** Service count by status word (Running, Downloading, …), read at scrape time. */
  serviceStates: () => ReadonlyMap<string, number>;
  /** Collect the process/Node.js metrics (CPU, memory, event loop lag, GC): process-metrics.ts. */
  processMetrics?: boolean;
}

export type StepOutcomeLabel = 'ok' | 'failed' | 'skipped' | 'cancelled';

export class AgentMetrics implements CloudMetrics, LogMetrics {
  readonly registry = new Registry();
  private readonly rounds: Counter;
  private readonly roundSeconds: Histogram;
  private readonly steps: Counter<'kind' | 'outcome'>;
  private readonly blockers: Gauge<'kind'>;
  private readonly imagesPulled: Counter;
  private readonly pulledBytes: Counter;
  private readonly engineRequests: Counter<'method' | 'outcome'>;
  private readonly apiRequests: Counter<'route' | 'method' | 'status'>;
  private readonly apiSeconds: Histogram<'route'>;
  private readonly logLines: Counter<'outcome'>;
  private readonly cloudPolls: Counter<'outcome'>;
  private readonly cloudReports: Counter<'outcome'>;
  private readonly cloudBytesTotal: Counter<'direction'>;

  constructor(options: AgentMetricsOptions) {
    const registers = [this.registry];
    if (options.processMetrics ?? true) collectProcessMetrics(this.registry);
    new Gauge({
      name: 'bosun_info',
      help: 'Always 1; the labels say which bosun runs and in which mode.',
      labelNames: ['version', 'mode'],
      registers,
    })
      .labels(options.version, options.localMode ? 'local' : 'cloud')
      .set(1);
    const serviceStates = options.serviceStates;
    new Gauge({
      name: 'bosun_services',
      help: 'Services of the target and current state, by status word (Running, Downloading, …).',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        for (const [state, count] of serviceStates()) this.labels(state).set(count);
      },
    });
    this.rounds = new Counter({
      name: 'bosun_reconcile_rounds_total',
      help: 'Reconcile rounds (observe → plan → execute) since the agent started.',
      registers,
    });
    this.roundSeconds = new Histogram({
      name: 'bosun_reconcile_round_duration_seconds',
      help: 'Duration of one reconcile round, steps included.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.steps = new Counter({
      name: 'bosun_steps_total',
      help: 'Plan steps run, by step kind and outcome.',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.blockers = new Gauge({
      name: 'bosun_blockers',
      help: 'Blockers in the last plan, by kind (what the update waits for).',
      labelNames: ['kind'],
      registers,
    });
    this.imagesPulled = new Counter({
      name: 'bosun_images_pulled_total',
      help: 'Images pulled successfully.',
      registers,
    });
    this.pulledBytes = new Counter({
      name: 'bosun_image_pull_bytes_total',
      help: 'Layer bytes downloaded by successful pulls (as the engine reported them).',
      registers,
    });
    this.engineRequests = new Counter({
      name: 'bosun_engine_requests_total',
      help: 'Requests to the container engine API, by HTTP method and outcome.',
      labelNames: ['method', 'outcome'],
      registers,
    });
    this.apiRequests = new Counter({
      name: 'bosun_api_requests_total',
      help: 'Local API requests, by route template, method and status code.',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.apiSeconds = new Histogram({
      name: 'bosun_api_request_duration_seconds',
      help: 'Local API response time (until the response is finished; streams count their whole life).',
      labelNames: ['route'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    });
    this.logLines = new Counter({
      name: 'bosun_log_lines_total',
      help: 'Log lines: captured from containers and bosun, shipped (acknowledged by the cloud), dropped unshipped because the log spool was full.',
      labelNames: ['outcome'],
      registers,
    });
    this.cloudPolls = new Counter({
      name: 'bosun_cloud_polls_total',
      help: 'Target state polls to the cloud, by outcome.',
      labelNames: ['outcome'],
      registers,
    });
    this.cloudReports = new Counter({
      name: 'bosun_cloud_reports_total',
      help: 'Current state reports to the cloud, by outcome.',
      labelNames: ['outcome'],
      registers,
    });
    this.cloudBytesTotal = new Counter({
      name: 'bosun_cloud_bytes_total',
      help: 'Bytes exchanged with the cloud API (bodies), by direction.',
      labelNames: ['direction'],
      registers,
    });
    // Series that exist from the start, so rate() and absent() behave before the first event.
    for (const outcome of ['captured', 'shipped', 'dropped'] as const)
      this.logLines.labels(outcome).inc(0);
  }

  // ── reconciler (RoundObserver, structurally)

  planned(plan: { blockers: ReadonlyArray<{ kind: string }> }): void {
    this.rounds.inc();
    this.blockers.reset();
    for (const blocker of plan.blockers) this.blockers.labels(blocker.kind).inc();
  }

  roundEnded(durationMs: number): void {
    this.roundSeconds.observe(durationMs / 1000);
  }

  stepEnded(kind: string, outcome: StepOutcomeLabel): void {
    this.steps.labels(kind, outcome).inc();
  }

  // ── executor and engine

  imagePulled(bytes: number): void {
    this.imagesPulled.inc();
    if (bytes > 0) this.pulledBytes.inc(bytes);
  }

  engineRequest(method: string, outcome: 'ok' | 'error'): void {
    this.engineRequests.labels(method, outcome).inc();
  }

  // ── API

  apiRequest(request: { route: string; method: string; status: number; seconds: number }): void {
    this.apiRequests.labels(request.route, request.method, String(request.status)).inc();
    this.apiSeconds.labels(request.route).observe(request.seconds);
  }

  // ── logs and cloud (hooks.ts)

  logLine(outcome: LogLineOutcome, count = 1): void {
    this.logLines.labels(outcome).inc(count);
  }

  cloudPoll(outcome: 'ok' | 'not-modified' | 'error'): void {
    this.cloudPolls.labels(outcome).inc();
  }

  cloudReport(outcome: 'ok' | 'error'): void {
    this.cloudReports.labels(outcome).inc();
  }

  cloudBytes(direction: 'sent' | 'received', bytes: number): void {
    if (bytes > 0) this.cloudBytesTotal.labels(direction).inc(bytes);
  }

  /** The Prometheus text exposition of every metric. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
