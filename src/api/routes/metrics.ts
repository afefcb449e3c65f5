/**
 * GET /metrics: the Prometheus text format. Authenticated like the rest of the API: Prometheus sends the
 * device key as a bearer token (`authorization: {credentials: <key>}` in its scrape config).
 */
import { BosunError } from '../../shared/errors.js';
import { defineRoute, type RouteDef } from '../route.js';
import { requireDeviceWide } from './dashboard.js';

/** Renders every metric (prom-client's registry, behind AgentMetrics.render). */
export type MetricsEndpoint = () => Promise<{ contentType: string; body: string }>;

export function metricsRoutes(render: MetricsEndpoint | undefined): RouteDef[] {
  return [
    defineRoute({
      method: 'get',
      path: '/metrics',
      tag: 'meta',
      summary: 'Metrics in the Prometheus text exposition format (process metrics included).',
      auth: 'key',
      responses: { 200: { description: 'Prometheus text format', text: true } },
      handler: async ({ res, scope }) => {
        requireDeviceWide(scope);
        if (render === undefined) throw new BosunError('NOT_READY', 'metrics are not enabled');
        const { contentType, body } = await render();
        res.status(200).set('Content-Type', contentType).send(body);
      },
    }),
  ];
}
