/**
 * prom-client's per-metric collectors (the modules `collectDefaultMetrics` runs), imported one by one
 * by process-metrics.ts. The package ships no types for them; each registers its metrics on `registry`.
 */
declare module 'prom-client/lib/metrics/*.js' {
  import type { Registry } from 'prom-client';
  const collect: (registry: Registry, config: { prefix?: string }) => void;
  export default collect;
}
