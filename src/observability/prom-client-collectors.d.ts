/**
 * prom-client's modules that bosun imports one by one instead of the package's index, which loads all
 * of them at once: the per-metric collectors (the modules `collectDefaultMetrics` runs, used by
 * process-metrics.ts) and the metric classes and registry (agent-metrics.ts). The index would also load
 * the Pushgateway (node:https, node:zlib), Summary, the cluster aggregator and the default-metrics set,
 * none of which bosun uses. The package ships no types for these paths; each collector registers its
 * metrics on `registry`, each class module exports the class the index exports under the same name.
 */
declare module 'prom-client/lib/metrics/*.js' {
  import type { Registry } from 'prom-client';
  const collect: (registry: Registry, config: { prefix?: string }) => void;
  export default collect;
}

declare module 'prom-client/lib/registry.js' {
  import { Registry } from 'prom-client';
  export default Registry;
}

declare module 'prom-client/lib/counter.js' {
  import { Counter } from 'prom-client';
  export default Counter;
}

declare module 'prom-client/lib/gauge.js' {
  import { Gauge } from 'prom-client';
  export default Gauge;
}

declare module 'prom-client/lib/histogram.js' {
  import { Histogram } from 'prom-client';
  export default Histogram;
}
