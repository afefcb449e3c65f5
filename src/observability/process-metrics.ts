/**
 * The process and Node.js metrics (CPU, memory, handles, heap, GC, event loop lag) without the one part
 * of prom-client's `collectDefaultMetrics` that keeps an idle agent awake: its event-loop-delay
 * histogram (`perf_hooks.monitorEventLoopDelay`, 10 ms resolution) wakes the main thread ~100 times a
 * second for ever, whether anyone scrapes or not (issue 16: ~5,500 wake-ups per idle minute, 250 ms of
 * CPU). Here the lag is measured when scraped instead, the way prom-client measures
 * `nodejs_eventloop_lag_seconds` itself (the time a `setImmediate` takes to run), so the work happens
 * only when a scrape asks for it. The lag distribution gauges (min/max/mean/percentiles) are dropped:
 * they need that continuous sampler.
 *
 * The other collectors are prom-client's own modules (same names, help and values as before); they do
 * their work at scrape time or on a GC, not on a timer.
 */
import type { Registry } from 'prom-client';
import Gauge from 'prom-client/lib/gauge.js';
import gc from 'prom-client/lib/metrics/gc.js';
import heapSizeAndUsed from 'prom-client/lib/metrics/heapSizeAndUsed.js';
import heapSpacesSizeAndUsed from 'prom-client/lib/metrics/heapSpacesSizeAndUsed.js';
import osMemoryHeap from 'prom-client/lib/metrics/osMemoryHeap.js';
import processCpuTotal from 'prom-client/lib/metrics/processCpuTotal.js';
import processHandles from 'prom-client/lib/metrics/processHandles.js';
import processMaxFileDescriptors from 'prom-client/lib/metrics/processMaxFileDescriptors.js';
import processOpenFileDescriptors from 'prom-client/lib/metrics/processOpenFileDescriptors.js';
import processRequests from 'prom-client/lib/metrics/processRequests.js';
import processResources from 'prom-client/lib/metrics/processResources.js';
import processStartTime from 'prom-client/lib/metrics/processStartTime.js';
import version from 'prom-client/lib/metrics/version.js';

const COLLECTORS = [
  processCpuTotal,
  processStartTime,
  osMemoryHeap,
  processOpenFileDescriptors,
  processMaxFileDescriptors,
  processResources,
  processHandles,
  processRequests,
  heapSizeAndUsed,
  heapSpacesSizeAndUsed,
  version,
  gc,
];

export function collectProcessMetrics(registry: Registry): void {
  for (const collect of COLLECTORS) collect(registry, {});
  new Gauge({
    name: 'nodejs_eventloop_lag_seconds',
    help: 'Lag of event loop in seconds.',
    registers: [registry],
    async collect() {
      const start = process.hrtime.bigint();
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.set(Number(process.hrtime.bigint() - start) / 1e9);
    },
  });
}
