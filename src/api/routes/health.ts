/** Unauthenticated liveness (/ping) and health (/v1/healthy, used by the container HEALTHCHECK). */
import * as z from 'zod';
import { lazy } from '../../shared/lazy.js';
import { defineRoute, sendJson, sendText, type RouteDef } from '../route.js';
import { FailedResponse } from '../schemas.js';

export const healthRoutes: RouteDef[] = [
  defineRoute({
    method: 'get',
    path: '/ping',
    tag: 'health',
    summary: 'Liveness: answers as soon as the HTTP server runs.',
    auth: 'public',
    responses: { 200: { description: 'OK', text: true } },
    handler: ({ res }) => sendText(res, 200, 'OK'),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/healthy',
    tag: 'health',
    summary:
      'Health of the agent (target fetches and apply progress); 500 with the reasons when unhealthy.',
    auth: 'public',
    responses: {
      200: { description: 'Healthy', text: true },
      500: {
        description: 'Unhealthy, with the reasons',
        schema: lazy(() => FailedResponse().extend({ reasons: z.array(z.string()) })),
      },
    },
    handler: async ({ res, agent }) => {
      const report = await agent.health();
      if (report.healthy) sendText(res, 200, 'OK');
      else
        sendJson(res, 500, {
          status: 'failed',
          message: `Unhealthy: ${report.reasons.join('; ')}`,
          reasons: report.reasons,
        });
    },
  }),
];
