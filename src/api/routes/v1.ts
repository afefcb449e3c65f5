/**
 * The v1 device API (docs/protocol.md#api-endpoints). Success bodies keep balena's legacy shapes (text or
 * JSON per route).
 */
import { BosunError } from '../../shared/errors.js';
import type { AppView, ServiceAction } from '../agent-api.js';
import { requireScope, presentedKey } from '../auth.js';
import { defineRoute, sendJson, sendText, type RouteDef } from '../route.js';
import {
  AppIdBody,
  ContainerIdResponse,
  DataErrorResponse,
  ForceBody,
  HostConfigBody,
  HostConfigResponse,
  UpdateBody,
  V1AppResponse,
  V1DeviceResponse,
} from '../schemas.js';
import { appIdParam } from './params.js';

/** Private keys injected into containers never leave through the API. */
const PRIVATE_ENV = new Set(['BALENA_SUPERVISOR_API_KEY', 'RESIN_SUPERVISOR_API_KEY']);

/**
 * v1 app routes work only on single-container apps. balena answers 400 (not 404) when the app has no
 * service or several: kept, because v1 clients test for it.
 */
function singleService(
  app: AppView | undefined,
  appId: number,
): NonNullable<AppView['services'][number]> {
  const services = app?.services ?? [];
  if (app === undefined || services.length === 0)
    throw new BosunError('VALIDATION_FAILED', `App not found: ${appId}`);
  if (services.length > 1) {
    throw new BosunError(
      'VALIDATION_FAILED',
      'Some v1 endpoints are only allowed on single-container apps',
    );
  }
  return services[0]!;
}

function v1ServiceAction(action: Extract<ServiceAction, 'stop' | 'start'>): RouteDef {
  return defineRoute({
    method: 'post',
    path: `/v1/apps/:appId/${action}`,
    tag: 'v1',
    summary: `${action === 'stop' ? 'Stop (takes the update lock unless forced)' : 'Start'} the only service of a single-container app.`,
    auth: 'key',
    body: ForceBody,
    responses: {
      200: { description: 'Container id after the action', schema: ContainerIdResponse },
    },
    handler: async ({ req, res, agent, scope, body }) => {
      const appId = appIdParam(req);
      requireScope(scope, appId);
      const app = agent.status().apps.find((a) => a.appId === appId);
      const service = singleService(app, appId);
      const result = await agent.serviceAction(
        appId,
        action,
        { serviceName: service.serviceName },
        { force: body.force ?? false },
      );
      sendJson(res, 200, { containerId: result.containerId ?? null });
    },
  });
}

function hostAction(action: 'reboot' | 'shutdown'): RouteDef {
  return defineRoute({
    method: 'post',
    path: `/v1/${action}`,
    tag: 'v1',
    summary: `${action === 'reboot' ? 'Reboot' : 'Shut down'} the device (after update locks are checked, unless forced).`,
    auth: 'key',
    body: ForceBody,
    errorShape: 'data-error',
    responses: {
      202: {
        description: 'Accepted; the host acts about a second later',
        schema: DataErrorResponse,
      },
      423: { description: 'An update lock is held', schema: DataErrorResponse },
    },
    handler: async ({ res, agent, body }) => {
      await agent.hostAction(action, { force: body.force ?? false });
      // [doc≠code] balena's docs show "Error": "" but its code sends null; we follow the code.
      sendJson(res, 202, { Data: 'OK', Error: null });
    },
  });
}

export const v1Routes: RouteDef[] = [
  defineRoute({
    method: 'post',
    path: '/v1/blink',
    tag: 'v1',
    summary: 'Blink the identification LED for 15 s.',
    auth: 'key',
    responses: { 200: { description: 'OK', text: true } },
    handler: async ({ res, agent }) => {
      await agent.blink();
      sendText(res, 200, 'OK');
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/regenerate-api-key',
    tag: 'v1',
    summary:
      'Replace the key used for this request by a new one with the same scope; answers the new key.',
    auth: 'key',
    responses: { 200: { description: 'The new key', text: true } },
    handler: async ({ req, res, agent }) => {
      const key = presentedKey(req);
      if (key === undefined) {
        throw new BosunError(
          'VALIDATION_FAILED',
          'An API key is needed to regenerate it (this route is open only in local mode)',
        );
      }
      sendText(res, 200, await agent.regenerateApiKey(key));
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/update',
    tag: 'v1',
    summary:
      'Fetch the target state from the cloud now (204), or ignore when instant updates are off and not forced (202).',
    auth: 'key',
    body: UpdateBody,
    responses: { 204: { description: 'A fetch was triggered' }, 202: { description: 'Ignored' } },
    handler: async ({ res, agent, body }) => {
      const { triggered } = await agent.triggerUpdate({
        force: body.force ?? false,
        cancel: body.cancel ?? false,
      });
      res.sendStatus(triggered ? 204 : 202);
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/restart',
    tag: 'v1',
    summary:
      "Restart an app: its containers are removed and recreated (the app's update lock is taken unless forced).",
    auth: 'key',
    body: AppIdBody,
    responses: { 200: { description: 'OK', text: true } },
    handler: async ({ res, agent, scope, body }) => {
      if (body.appId === undefined) throw new BosunError('VALIDATION_FAILED', 'Missing app id');
      requireScope(scope, body.appId);
      await agent.restartApp(body.appId, { force: body.force ?? false });
      sendText(res, 200, 'OK');
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/purge',
    tag: 'v1',
    summary: "Purge an app's data: containers and volumes removed, then recreated empty.",
    auth: 'key',
    body: AppIdBody,
    responses: { 200: { description: 'OK', schema: DataErrorResponse } },
    handler: async ({ res, agent, scope, body }) => {
      if (body.appId === undefined)
        throw new BosunError('VALIDATION_FAILED', 'Invalid or missing appId');
      requireScope(scope, body.appId);
      await agent.purgeApp(body.appId, { force: body.force ?? false });
      sendJson(res, 200, { Data: 'OK', Error: '' });
    },
  }),
  v1ServiceAction('stop'),
  v1ServiceAction('start'),
  defineRoute({
    method: 'get',
    path: '/v1/apps/:appId',
    tag: 'v1',
    summary:
      'The only service of a single-container app: container id, environment, image, release.',
    auth: 'key',
    responses: { 200: { description: 'App summary', schema: V1AppResponse } },
    handler: async ({ req, res, agent, scope }) => {
      const appId = appIdParam(req, 'Missing app id');
      requireScope(scope, appId);
      const app = agent.status().apps.find((a) => a.appId === appId);
      const service = singleService(app, appId);
      if (service.containerId === undefined)
        throw new BosunError('VALIDATION_FAILED', `App not found: ${appId}`);
      const details = await agent.containerDetails(service.containerId);
      const env = Object.fromEntries(
        Object.entries(details.env).filter(([k]) => !PRIVATE_ENV.has(k)),
      );
      sendJson(res, 200, {
        appId,
        commit: app?.commit ?? null,
        containerId: service.containerId,
        env,
        imageId: details.engineImageId,
        releaseId: service.releaseId,
      });
    },
  }),
  hostAction('reboot'),
  hostAction('shutdown'),
  defineRoute({
    method: 'get',
    path: '/v1/device',
    tag: 'v1',
    summary: 'Legacy device summary (first app, first service).',
    auth: 'key',
    responses: { 200: { description: 'Device summary', schema: V1DeviceResponse } },
    handler: async ({ res, agent }) => {
      const summary = await agent.deviceSummary();
      const view = agent.status();
      const first = view.apps[0]?.services[0];
      const downloading = view.images.some((i) => i.status === 'Downloading');
      const body: Record<string, unknown> = {
        api_port: summary.apiPort,
        ip_address: summary.ipAddresses.join(' '),
        os_version: summary.osVersion ?? null,
        mac_address: summary.macAddresses.join(' '),
        supervisor_version: summary.agentVersion,
        update_pending: view.applying,
        // A release that failed its confirmation window (health-gated rollback) counts as failed.
        update_failed: view.apps.some(
          (a) => a.updateStatus === 'aborted' || a.releaseCheck?.failed !== undefined,
        ),
        update_downloaded: view.applying && !downloading,
        // "Running" reads "Idle" in this legacy summary, as in balena.
        status: first === undefined || first.status === 'Running' ? 'Idle' : first.status,
        download_progress: first?.downloadProgress ?? null,
      };
      const commit = view.apps[0]?.commit;
      if (!view.applying && commit !== undefined) body['commit'] = commit;
      sendJson(res, 200, body);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/device/host-config',
    tag: 'v1',
    summary: 'Hostname and proxy configuration of the host.',
    auth: 'key',
    responses: { 200: { description: 'Host config', schema: HostConfigResponse } },
    handler: async ({ res, agent }) => sendJson(res, 200, await agent.hostConfig()),
  }),
  defineRoute({
    method: 'patch',
    path: '/v1/device/host-config',
    tag: 'v1',
    summary: 'Change hostname and/or proxy (holds all update locks while applying, unless forced).',
    auth: 'key',
    body: HostConfigBody,
    responses: { 200: { description: 'OK', text: true } },
    handler: async ({ res, agent, body }) => {
      // [doc≠code] balena's docs put `force` inside `network`; its code (and we) read the top-level one.
      await agent.patchHostConfig({ network: body.network }, { force: body.force ?? false });
      sendText(res, 200, 'OK');
    },
  }),
];
