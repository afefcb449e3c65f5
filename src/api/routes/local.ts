/**
 * What balena-cli calls in local mode (balena-cli-local-mode.md): open without a key while the device is in
 * local mode (like every route), key-protected otherwise. Shapes are exactly what the CLI parses: JSON under
 * `Content-Type: application/json`, `status: "success"`, and exactly 200 on success.
 */
import { BosunError } from '../../shared/errors.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { findContainerId, renderContainerIds, renderStateStatus } from '../render.js';
import { defineRoute, sendJson, type RouteDef } from '../route.js';
import {
  ContainerIdLookupResponse,
  ContainerIdQuery,
  DeviceInfoResponse,
  LocalTargetBody,
  LocalTargetResponse,
  LogLineSchema,
  StateStatusResponse,
  SuccessMessageResponse,
  VersionResponse,
} from '../schemas.js';
import { cliCompatibleVersion } from '../version.js';

/** The `/v2/local/logs` stream, built by the logs module (src/logs/local-logs-handler.ts) and mounted as is. */
export type LocalLogsHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function localRoutes(localLogs: LocalLogsHandler | undefined): RouteDef[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v2/version',
      tag: 'local',
      summary: 'Supervisor API version (balena-cli requires ≥ 7.21.4, ≥ 9.7.0 for livepush).',
      auth: 'key',
      responses: { 200: { description: 'Version', schema: VersionResponse } },
      handler: ({ res, agent }) =>
        sendJson(res, 200, { status: 'success', version: cliCompatibleVersion(agent.version()) }),
    }),
    defineRoute({
      method: 'get',
      path: '/v2/state/status',
      tag: 'local',
      summary:
        'Apply status of the (first) app: applied/applying, containers, images, download progress.',
      auth: 'key',
      responses: { 200: { description: 'Status', schema: StateStatusResponse } },
      handler: ({ res, agent, scope }) =>
        sendJson(res, 200, renderStateStatus(agent.status(), scope, agent.cloudConnectivity())),
    }),
    defineRoute({
      method: 'get',
      path: '/v2/containerId',
      tag: 'local',
      summary:
        'Container id of a service (?serviceName= or ?service=), or all service → container ids.',
      auth: 'key',
      query: ContainerIdQuery,
      responses: {
        200: { description: 'Container id(s)', schema: ContainerIdLookupResponse },
        404: { description: 'No container for that service (balena answers 503)' },
      },
      handler: ({ res, agent, scope, query }) => {
        const name = query.serviceName ?? query.service;
        const view = agent.status();
        if (name === undefined) {
          sendJson(res, 200, { status: 'success', services: renderContainerIds(view, scope) });
          return;
        }
        const containerId = findContainerId(view, scope, name);
        // balena answers 503 here; an unknown name is not "try later", so we answer 404 (the CLI retries either way).
        if (containerId === undefined)
          throw new BosunError('NOT_FOUND', `Could not find service with that name: ${name}`);
        sendJson(res, 200, { status: 'success', containerId });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v2/local/device-info',
      tag: 'local',
      summary: 'Architecture and device type (drive Dockerfile.template resolution in balena-cli).',
      auth: 'key',
      responses: { 200: { description: 'Device info', schema: DeviceInfoResponse } },
      handler: async ({ res, agent }) =>
        sendJson(res, 200, { status: 'success', info: await agent.deviceInfo() }),
    }),
    defineRoute({
      method: 'get',
      path: '/v2/local/target-state',
      tag: 'local',
      summary: 'The local target in the v2 local shape (balena-cli reuses `name` and `config`).',
      auth: 'key',
      responses: { 200: { description: 'Local target', schema: LocalTargetResponse } },
      handler: async ({ res, agent }) =>
        sendJson(res, 200, { status: 'success', state: { local: await agent.localTarget() } }),
    }),
    defineRoute({
      method: 'post',
      path: '/v2/local/target-state',
      tag: 'local',
      summary: 'Set the local target (v2 local body); only in local mode.',
      auth: 'key',
      body: LocalTargetBody,
      targetBody: true,
      precondition: (agent) => {
        if (!agent.isLocalMode()) {
          throw new BosunError(
            'NOT_IN_LOCAL_MODE',
            'Target state can only set when device is in local mode',
          );
        }
      },
      responses: {
        200: { description: 'Stored; an apply was triggered', schema: SuccessMessageResponse },
        400: {
          description: 'Not in local mode, or the body is invalid (message names the JSON path)',
        },
      },
      handler: async ({ res, agent, body }) => {
        await agent.setLocalTarget(body, { force: body.force ?? false });
        sendJson(res, 200, { status: 'success', message: 'OK' });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v2/local/logs',
      tag: 'local',
      summary: 'Live NDJSON log stream (no history); stays open until the client leaves.',
      auth: 'key',
      responses: {
        200: { description: 'NDJSON stream of log lines', schema: LogLineSchema, ndjson: true },
      },
      handler: ({ req, res }) => {
        if (localLogs === undefined)
          throw new BosunError('NOT_READY', 'Local log streaming is not available yet');
        localLogs(req, res);
      },
    }),
  ];
}
