/** The v2 device API (docs/protocol.md#api-endpoints), except the local-mode routes (local.ts). */
import { BosunError } from '../../shared/errors.js';
import type { ServiceAction } from '../agent-api.js';
import { requireScope } from '../auth.js';
import { renderApplicationsState, renderLegacyAppState } from '../render.js';
import { defineRoute, sendJson, sendText, type RouteDef } from '../route.js';
import {
  ApplicationsStateResponse,
  DeviceNameResponse,
  ForceBody,
  JournalLogsBody,
  LegacyAppStateResponse,
  ServiceActionBody,
  SuccessResponse,
  TagsBody,
  TagsResponse,
  VpnResponse,
} from '../schemas.js';
import { appIdParam } from './params.js';

function serviceActionRoute(action: ServiceAction): RouteDef {
  const what = {
    restart: 'Restart (lock, kill, recreate)',
    stop: 'Stop (lock, stop)',
    start: 'Start (no lock)',
  }[action];
  return defineRoute({
    method: 'post',
    path: `/v2/applications/:appId/${action}-service`,
    tag: 'v2',
    summary: `${what} one service of an app, chosen by serviceName or imageId.`,
    auth: 'key',
    body: ServiceActionBody,
    responses: { 200: { description: 'OK', text: true } },
    handler: async ({ req, res, agent, scope, body }) => {
      const appId = appIdParam(req);
      requireScope(scope, appId);
      if (body.serviceName === undefined && body.imageId === undefined) {
        throw new BosunError(
          'VALIDATION_FAILED',
          'serviceName or imageId parameters were not provided or the app is multi-container. Use the v2 service action endpoints.',
        );
      }
      await agent.serviceAction(
        appId,
        action,
        { serviceName: body.serviceName, imageId: body.imageId },
        { force: body.force ?? false },
      );
      sendText(res, 200, 'OK');
    },
  });
}

function appActionRoute(action: 'restart' | 'purge'): RouteDef {
  return defineRoute({
    method: 'post',
    path: `/v2/applications/:appId/${action}`,
    tag: 'v2',
    summary:
      action === 'restart'
        ? 'Restart an app (containers recreated).'
        : "Purge an app's volumes and recreate it.",
    auth: 'key',
    body: ForceBody,
    responses: { 200: { description: 'OK', text: true } },
    handler: async ({ req, res, agent, scope, body }) => {
      const appId = appIdParam(req, 'Missing app id');
      requireScope(scope, appId);
      const options = { force: body.force ?? false };
      if (action === 'restart') await agent.restartApp(appId, options);
      else await agent.purgeApp(appId, options);
      sendText(res, 200, 'OK');
    },
  });
}

export const v2Routes: RouteDef[] = [
  defineRoute({
    method: 'get',
    path: '/v2/applications/state',
    tag: 'v2',
    summary: 'State of every app the key may see, keyed by app name.',
    auth: 'key',
    responses: { 200: { description: 'Apps by name', schema: ApplicationsStateResponse } },
    handler: ({ res, agent, scope }) =>
      sendJson(res, 200, renderApplicationsState(agent.status(), scope)),
  }),
  defineRoute({
    method: 'get',
    path: '/v2/applications/:appId/state',
    tag: 'v2',
    summary: 'Legacy state of one app, services keyed by image id.',
    auth: 'key',
    responses: {
      200: { description: 'App state', schema: LegacyAppStateResponse },
      409: { description: 'No such app (balena answers 409 here, kept for compatibility)' },
    },
    handler: ({ req, res, agent, scope }) => {
      const raw = String(req.params['appId']);
      if (!/^\d+$/.test(raw))
        throw new BosunError('VALIDATION_FAILED', `Invalid application ID: ${raw}`);
      const appId = Number(raw);
      requireScope(scope, appId);
      const app = agent.status().apps.find((a) => a.appId === appId);
      // balena answers 409 (not 404) for an unknown app on this route; clients depend on it.
      if (app === undefined)
        throw new BosunError('CONFLICT', `Application ID does not exist: ${appId}`);
      sendJson(res, 200, renderLegacyAppState(app));
    },
  }),
  serviceActionRoute('restart'),
  serviceActionRoute('stop'),
  serviceActionRoute('start'),
  appActionRoute('restart'),
  appActionRoute('purge'),
  defineRoute({
    method: 'get',
    path: '/v2/device/name',
    tag: 'v2',
    summary: 'The device name.',
    auth: 'key',
    responses: { 200: { description: 'Name', schema: DeviceNameResponse } },
    handler: ({ res, agent }) =>
      sendJson(res, 200, { status: 'success', deviceName: agent.deviceName() }),
  }),
  defineRoute({
    method: 'get',
    path: '/v2/device/tags',
    tag: 'v2',
    summary: 'Device tags.',
    auth: 'key',
    responses: { 200: { description: 'Tags', schema: TagsResponse } },
    handler: async ({ res, agent }) => {
      const tags = (await agent.tags()).map((t) =>
        t.id === undefined ? { name: t.name, value: t.value } : t,
      );
      sendJson(res, 200, { status: 'success', tags });
    },
  }),
  defineRoute({
    method: 'patch',
    path: '/v2/device/tags',
    tag: 'v2',
    summary: 'Replace the device tags with `{name: value}`.',
    auth: 'key',
    body: TagsBody,
    responses: { 202: { description: 'Accepted', schema: SuccessResponse } },
    handler: async ({ res, agent, body }) => {
      await agent.setTags(body);
      sendJson(res, 202, { status: 'success' });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v2/device/vpn',
    tag: 'v2',
    summary: 'Whether the VPN is enabled and connected.',
    auth: 'key',
    responses: { 200: { description: 'VPN status', schema: VpnResponse } },
    handler: async ({ res, agent }) =>
      sendJson(res, 200, { status: 'success', vpn: await agent.vpnStatus() }),
  }),
  defineRoute({
    method: 'get',
    path: '/v2/cleanup-volumes',
    tag: 'v2',
    summary:
      'Remove engine volumes that no container mounts and no in-scope target app references.',
    auth: 'key',
    responses: { 200: { description: 'Done', schema: SuccessResponse } },
    handler: async ({ res, agent, scope }) => {
      await agent.cleanupVolumes(scope);
      sendJson(res, 200, { status: 'success' });
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v2/journal-logs',
    tag: 'v2',
    summary:
      'Stream the host journal (journalctl); with `follow` it stays open until the client leaves.',
    auth: 'key',
    body: JournalLogsBody,
    responses: { 200: { description: 'journalctl output', text: true } },
    handler: async ({ req, res, agent, body }) => {
      const abort = new AbortController();
      res.on('close', () => abort.abort());
      const stream = agent.journalLogs(body, abort.signal);
      const type = body.format.startsWith('json') ? 'application/x-ndjson' : 'text/plain';
      if (body.follow === true) {
        // A followed journal may stay silent for long: answer now and keep the socket open.
        req.socket.setTimeout(0);
        res.status(200).type(type).flushHeaders();
      }
      // Headers wait for the first byte (or the end), so a journalctl that fails at once still gets a JSON error.
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void => {
          if (res.headersSent) res.destroy(err);
          else reject(err);
        };
        stream.once('error', onError);
        stream.once('readable', () => {
          if (!res.headersSent)
            res
              .status(200)
              .type(body.format.startsWith('json') ? 'application/x-ndjson' : 'text/plain');
          stream.pipe(res);
          resolve();
        });
        stream.once('end', () => {
          if (!res.headersSent) res.status(200).type('text/plain').end();
          resolve();
        });
      });
    },
  }),
];
