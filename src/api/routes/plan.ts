/**
 * POST /v2/plan: what the agent would do now with a target (the body, in the local-mode or the v3
 * shape) or with its stored one (no body, or `{}`), changing nothing. The plan covers every app, so it
 * needs the device-wide key (or local mode), like the dashboard and the metrics.
 */
import { BosunError } from '../../shared/errors.js';
import { PlanBody, PlanPreviewResponse, type PlanPreviewView } from '../plan-schemas.js';
import { defineRoute, sendJson, type RouteDef } from '../route.js';
import { requireDeviceWide } from './dashboard.js';

/** The agent's plan preview (src/agent/plan-preview.ts), bound to this device by main.ts. */
export type PlanPreviewEndpoint = (body: unknown) => Promise<PlanPreviewView>;

export function planRoutes(preview: PlanPreviewEndpoint | undefined): RouteDef[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v2/plan',
      tag: 'v2',
      summary:
        'Plan preview: the steps (reasons, dependencies), blockers and downloads the agent would run now for the given target, or the stored one; changes nothing.',
      auth: 'key',
      body: PlanBody,
      responses: {
        200: { description: 'The plan', schema: PlanPreviewResponse },
        400: { description: 'The target is invalid (the message names the JSON path)' },
        403: { description: 'An app-scoped key' },
      },
      handler: async ({ res, scope, body }) => {
        requireDeviceWide(scope);
        if (preview === undefined) throw new BosunError('NOT_READY', 'the plan preview is off');
        sendJson(res, 200, await preview(body));
      },
    }),
  ];
}
