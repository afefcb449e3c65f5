/**
 * The device side of the API, with the rules the recorded openBalena v49 exchanges show (see
 * test/fixtures/cloud/README.md): who may call what with which key, and what each answer looks like.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  bearer,
  parseJson,
  readBody,
  sendEmpty,
  sendHtmlText,
  sendJson,
  sendKeyRequired,
  weakEtag,
} from './answers.js';
import { METRIC_FIELDS, REPORT_FIELD_TYPES, type PeerDevice, type PeerModel } from './model.js';

export interface PeerRouteContext {
  readonly model: PeerModel;
  readonly provisioningKey: string;
  /** A user's token: may read devices and add device keys (the key exchange only a user can do in v49). */
  readonly userToken: string;
  now(): number;
}

export interface PeerRoute {
  method: string;
  /** Matched against the path without the query string. */
  path: RegExp;
  handle(
    req: IncomingMessage,
    res: ServerResponse,
    match: RegExpExecArray,
    ctx: PeerRouteContext,
  ): void | Promise<void>;
}

/** Metrics are written at most once per 60 s by default (recorded: a second report right after was dropped). */
const METRICS_STORE_INTERVAL_MS = 60_000;
const NO_CACHE = { 'Cache-Control': 'no-cache' };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonType(value: unknown): string {
  return value === null ? 'null' : typeof value;
}

/** `$filter=uuid eq '<x>'` / `device eq <n>`: the one equality the device routes use. */
function filterValue(req: IncomingMessage, field: string): string | undefined {
  const url = new URL(req.url ?? '/', 'http://peer');
  const filter = url.searchParams.get('$filter') ?? '';
  const match = new RegExp(`^${field} eq '?([^']*)'?$`).exec(filter.trim());
  return match?.[1];
}

function select(req: IncomingMessage, record: Record<string, unknown>): Record<string, unknown> {
  const url = new URL(req.url ?? '/', 'http://peer');
  const fields = url.searchParams.get('$select');
  if (fields === null) return record;
  const out: Record<string, unknown> = {};
  for (const field of fields.split(',')) if (field in record) out[field] = record[field];
  return out;
}

async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req);
  return body === undefined ? undefined : parseJson(body);
}

const register: PeerRoute = {
  method: 'POST',
  path: /^\/device\/register$/,
  async handle(req, res, _match, ctx) {
    const key = bearer(req);
    if (key !== ctx.provisioningKey && key !== ctx.userToken) return sendKeyRequired(req, res);
    const body = await jsonBody(req);
    if (!isRecord(body) || typeof body['uuid'] !== 'string' || body['uuid'] === '')
      return sendEmpty(res, 400);
    const deviceType = body['device_type'];
    if (typeof deviceType !== 'string' || !ctx.model.deviceTypes.has(deviceType))
      return sendJson(req, res, 404, `Unknown device type ${String(deviceType)}`);
    // A provisioning key belongs to one fleet: asking for another is not authorised (not recorded; assumed).
    if (body['application'] !== ctx.model.fleet.id) return sendKeyRequired(req, res);
    if (ctx.model.devices.has(body['uuid']))
      return sendHtmlText(req, res, 409, '"uuid" must be unique.');
    const apiKey =
      typeof body['api_key'] === 'string' ? body['api_key'] : randomBytes(16).toString('hex');
    const device = ctx.model.register(body['uuid'], deviceType, apiKey);
    for (const field of ['supervisor_version', 'os_version', 'os_variant', 'mac_address'])
      if (typeof body[field] === 'string') device.fields[field] = body[field];
    sendJson(req, res, 201, { id: device.id, uuid: device.uuid, api_key: apiKey });
  },
};

const readDevice: PeerRoute = {
  method: 'GET',
  path: /^\/v7\/device$/,
  handle(req, res, _match, ctx) {
    const key = bearer(req);
    const uuid = filterValue(req, 'uuid');
    const caller = ctx.model.byKey(key);
    if (key !== ctx.userToken && caller === undefined) return sendEmpty(res, 401, NO_CACHE);
    const device = uuid === undefined ? undefined : ctx.model.devices.get(uuid);
    // A device key sees only its own device.
    const visible = device !== undefined && (key === ctx.userToken || device === caller);
    const d = visible
      ? [select(req, { id: device.id, uuid: device.uuid, device_name: device.name })]
      : [];
    sendJson(req, res, 200, { d }, NO_CACHE);
  },
};

const addDeviceKey: PeerRoute = {
  method: 'POST',
  path: /^\/api-key\/device\/(\d+)\/device-key$/,
  async handle(req, res, match, ctx) {
    // v49: neither the provisioning key nor the device's own key may do this; only a user.
    if (bearer(req) !== ctx.userToken) return sendEmpty(res, 401);
    const device = ctx.model.byId(Number(match[1]));
    const body = await jsonBody(req);
    if (device === undefined) return sendEmpty(res, 404);
    const apiKey =
      isRecord(body) && typeof body['apiKey'] === 'string'
        ? body['apiKey']
        : randomBytes(16).toString('hex');
    device.keys.add(apiKey);
    sendJson(req, res, 200, apiKey);
  },
};

const getState: PeerRoute = {
  method: 'GET',
  path: /^\/device\/v3\/([^/]+)\/state$/,
  handle(req, res, match, ctx) {
    const caller = ctx.model.byKey(bearer(req));
    if (caller === undefined) return sendEmpty(res, 401);
    const device = ctx.model.devices.get(match[1] ?? '');
    // openBalena answers a deleted/unknown device with a bare 304 (no ETag): "unchanged" is not implied.
    if (device === undefined) {
      res.writeHead(304);
      return void res.end();
    }
    if (device !== caller) return sendEmpty(res, 401);
    if (device.apiHeartbeatState !== 'online') {
      device.apiHeartbeatState = 'online';
      device.heartbeatChangedAt = ctx.now();
    }
    const text = JSON.stringify(ctx.model.targetState(device));
    const etag = weakEtag(text);
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { ETag: etag });
      return void res.end();
    }
    sendJson(req, res, 200, ctx.model.targetState(device));
  },
};

/** Checks one device's `apps` report against the fleet: false means the whole PATCH is a 401. */
function appsKnown(apps: unknown, model: PeerModel): boolean {
  if (apps === undefined) return true;
  if (!isRecord(apps)) return false;
  for (const [appUuid, app] of Object.entries(apps)) {
    if (appUuid !== model.fleet.uuid || !isRecord(app)) return false;
    const releaseUuid = app['release_uuid'];
    if (releaseUuid !== undefined && releaseUuid !== null) {
      if (typeof releaseUuid !== 'string' || model.release(releaseUuid) === undefined) return false;
    }
    const releases = app['releases'] ?? {};
    if (!isRecord(releases)) return false;
    for (const [commit, release] of Object.entries(releases)) {
      const known = model.release(commit);
      if (known === undefined || !isRecord(release)) return false;
      const services = release['services'] ?? {};
      if (!isRecord(services)) return false;
      for (const [name, service] of Object.entries(services)) {
        if (!isRecord(service)) return false;
        // The image must be the target's string exactly (recorded: the compose image gives 401).
        if (known.services[name]?.image !== service['image']) return false;
      }
    }
  }
  return true;
}

function fieldsValid(report: Record<string, unknown>): boolean {
  for (const [field, value] of Object.entries(report)) {
    const allowed = REPORT_FIELD_TYPES[field];
    if (allowed !== undefined && !allowed.includes(jsonType(value) as 'null')) return false;
  }
  return true;
}

function applyReport(device: PeerDevice, report: Record<string, unknown>, now: number): void {
  device.reports.push({ at: now, body: structuredClone(report) });
  const metricsAllowed =
    device.metricsStoredAt === undefined ||
    now - device.metricsStoredAt >= METRICS_STORE_INTERVAL_MS;
  let metricsStored = false;
  for (const [field, value] of Object.entries(report)) {
    if (field === 'apps' || !(field in REPORT_FIELD_TYPES) || field.startsWith('update_')) continue;
    if ((METRIC_FIELDS as readonly string[]).includes(field)) {
      if (!metricsAllowed) continue;
      metricsStored = true;
    }
    device.fields[field] = value;
  }
  if (metricsStored) device.metricsStoredAt = now;
  const apps = report['apps'];
  if (!isRecord(apps)) return;
  for (const [appUuid, app] of Object.entries(apps)) {
    if (!isRecord(app)) continue;
    if (typeof app['release_uuid'] === 'string')
      device.runningRelease[appUuid] = app['release_uuid'];
    const releases = isRecord(app['releases']) ? app['releases'] : {};
    for (const [commit, release] of Object.entries(releases)) {
      if (!isRecord(release)) continue;
      if (typeof release['update_status'] === 'string') {
        if (device.fields['update_status'] !== release['update_status'])
          device.updateStatusAt = now;
        device.fields['update_status'] = release['update_status'];
      }
      const services = isRecord(release['services']) ? release['services'] : {};
      for (const [name, service] of Object.entries(services)) {
        if (!isRecord(service)) continue;
        device.imageInstalls[`${commit}/${name}`] = {
          status: service['status'],
          download_progress: service['download_progress'] ?? null,
        };
      }
    }
  }
}

const patchState: PeerRoute = {
  method: 'PATCH',
  path: /^\/device\/v3\/state$/,
  async handle(req, res, _match, ctx) {
    const caller = ctx.model.byKey(bearer(req));
    if (caller === undefined) return sendKeyRequired(req, res);
    const body = await jsonBody(req);
    if (!isRecord(body)) return sendEmpty(res, 400);
    for (const [uuid, report] of Object.entries(body)) {
      if (ctx.model.devices.get(uuid) !== caller || !isRecord(report)) return sendEmpty(res, 401);
      if (!fieldsValid(report)) return sendEmpty(res, 400);
      if (!appsKnown(report['apps'], ctx.model)) return sendEmpty(res, 401);
    }
    for (const report of Object.values(body))
      applyReport(caller, report as Record<string, unknown>, ctx.now());
    sendEmpty(res, 200);
  },
};

const patchTags: PeerRoute = {
  method: 'PATCH',
  path: /^\/device\/v3\/tags$/,
  async handle(req, res, _match, ctx) {
    const caller = ctx.model.byKey(bearer(req));
    if (caller === undefined) return sendKeyRequired(req, res);
    const body = await jsonBody(req);
    if (!isRecord(body)) return sendEmpty(res, 400);
    for (const [uuid, tags] of Object.entries(body)) {
      if (ctx.model.devices.get(uuid) !== caller) return sendEmpty(res, 401);
      if (!isRecord(tags) || Object.keys(tags).length === 0)
        return sendJson(req, res, 400, 'No tags were sent to be updated.');
      if (Object.values(tags).some((v) => typeof v !== 'string')) return sendEmpty(res, 400);
    }
    for (const tags of Object.values(body)) Object.assign(caller.tags, tags);
    sendEmpty(res, 200);
  },
};

const readTags: PeerRoute = {
  method: 'GET',
  path: /^\/v7\/device_tag$/,
  handle(req, res, _match, ctx) {
    const key = bearer(req);
    const device = ctx.model.byId(Number(filterValue(req, 'device')));
    const caller = ctx.model.byKey(key);
    if (key !== ctx.userToken && caller === undefined) return sendEmpty(res, 401, NO_CACHE);
    const visible = device !== undefined && (key === ctx.userToken || caller === device);
    const d = visible
      ? Object.entries(device.tags).map(([tag_key, value], i) =>
          select(req, { id: device.id * 1000 + i, tag_key, value }),
        )
      : [];
    sendJson(req, res, 200, { d }, NO_CACHE);
  },
};

function deviceVariables(kind: 'config' | 'env'): PeerRoute[] {
  const resource = kind === 'config' ? 'device_config_variable' : 'device_environment_variable';
  const path = new RegExp(`^/v7/${resource}$`);
  return [
    {
      method: 'POST',
      path,
      async handle(req, res, _match, ctx) {
        const caller = ctx.model.byKey(bearer(req));
        if (caller === undefined) return sendEmpty(res, 401, NO_CACHE);
        const body = await jsonBody(req);
        if (
          !isRecord(body) ||
          typeof body['name'] !== 'string' ||
          typeof body['value'] !== 'string'
        )
          return sendEmpty(res, 400, NO_CACHE);
        if (body['device'] !== caller.id) return sendEmpty(res, 401, NO_CACHE);
        const vars = kind === 'config' ? caller.config : caller.env;
        if (body['name'] in vars)
          return sendJson(req, res, 409, '"device" and "name" must be unique.', NO_CACHE);
        vars[body['name']] = body['value'];
        const id = ctx.model.takeVarId();
        const stamp = new Date(ctx.now()).toISOString();
        sendJson(
          req,
          res,
          201,
          {
            created_at: stamp,
            modified_at: stamp,
            device: { __id: caller.id },
            name: body['name'],
            id,
            value: body['value'],
          },
          { ...NO_CACHE, location: `/v7/${resource}(@id)?@id=${id}` },
        );
      },
    },
    {
      method: 'GET',
      path,
      handle(req, res, _match, ctx) {
        const caller = ctx.model.byKey(bearer(req));
        if (caller === undefined) return sendEmpty(res, 401, NO_CACHE);
        const device = ctx.model.byId(Number(filterValue(req, 'device')));
        const vars = device === caller ? (kind === 'config' ? caller.config : caller.env) : {};
        const d = Object.entries(vars).map(([name, value]) => select(req, { name, value }));
        sendJson(req, res, 200, { d }, NO_CACHE);
      },
    },
  ];
}

/** A device may not read its own logs (recorded 401); the log stream itself is mounted by logs' helper. */
const deviceReadLogs: PeerRoute = {
  method: 'GET',
  path: /^\/device\/v2\/[^/]+\/logs$/,
  handle(req, res, _match, ctx) {
    if (bearer(req) !== ctx.userToken) return sendEmpty(res, 401);
    sendJson(req, res, 200, []);
  },
};

/** A user's read of one device (`GET /v7/device(<id>)`): what the cloud stored or derived from reports. */
const userReadDevice: PeerRoute = {
  method: 'GET',
  path: /^\/v7\/device\((\d+)\)$/,
  handle(req, res, match, ctx) {
    if (bearer(req) !== ctx.userToken) return sendEmpty(res, 401, NO_CACHE);
    const device = ctx.model.byId(Number(match[1]));
    if (device === undefined) return sendJson(req, res, 200, { d: [] }, NO_CACHE);
    sendJson(req, res, 200, { d: [select(req, deviceRecord(device, ctx.model))] }, NO_CACHE);
  },
};

function deviceRecord(device: PeerDevice, model: PeerModel): Record<string, unknown> {
  const record: Record<string, unknown> = {
    id: device.id,
    uuid: device.uuid,
    device_name: device.name,
    api_heartbeat_state: device.apiHeartbeatState,
    changed_api_heartbeat_state_on__date:
      device.heartbeatChangedAt === undefined
        ? null
        : new Date(device.heartbeatChangedAt).toISOString(),
    // Both driven by the VPN, which the peer does not have (recorded: they stay false/null).
    is_online: false,
    is_connected_to_vpn: false,
    last_connectivity_event: null,
    public_address: null,
    overall_progress: null,
  };
  for (const field of Object.keys(REPORT_FIELD_TYPES)) {
    if (field.startsWith('update_')) continue;
    record[field] = device.fields[field] ?? (field === 'is_undervolted' ? false : null);
  }
  const running = device.runningRelease[model.fleet.uuid];
  const target = model.fleet.targetCommit;
  record['is_running__release'] =
    running === undefined ? null : { __id: model.release(running)?.id };
  record['should_be_running__release'] =
    target === undefined ? null : { __id: model.release(target)?.id };
  record['update_status'] = device.fields['update_status'] ?? null;
  record['last_update_status_event'] =
    device.updateStatusAt === undefined ? null : new Date(device.updateStatusAt).toISOString();
  // A fresh device is `configuring`; once its API heartbeat is online without a VPN: reduced functionality.
  record['overall_status'] = device.reports.length === 0 ? 'configuring' : 'reduced-functionality';
  return record;
}

/**
 * A device renaming itself (`PATCH /v7/device(<id>)` with its own key, body `{"device_name": …}`), as the
 * initial config report does with config.json initialDeviceName. Not among the recorded exchanges: the
 * answer follows pine's usual PATCH answer (200, body `OK`); another device's id or a field other than
 * device_name is refused (401 / 400).
 */
const deviceRename: PeerRoute = {
  method: 'PATCH',
  path: /^\/v7\/device\((\d+)\)$/,
  async handle(req, res, match, ctx) {
    const caller = ctx.model.byKey(bearer(req));
    if (caller === undefined || caller.id !== Number(match[1]))
      return sendEmpty(res, 401, NO_CACHE);
    const body = await jsonBody(req);
    if (
      !isRecord(body) ||
      typeof body['device_name'] !== 'string' ||
      Object.keys(body).length !== 1
    )
      return sendEmpty(res, 400, NO_CACHE);
    caller.name = body['device_name'];
    sendHtmlText(req, res, 200, 'OK');
  },
};

export const deviceRoutes: readonly PeerRoute[] = [
  deviceRename,
  register,
  readDevice,
  addDeviceKey,
  getState,
  patchState,
  patchTags,
  readTags,
  ...deviceVariables('config'),
  ...deviceVariables('env'),
  deviceReadLogs,
  userReadDevice,
];

export { METRIC_FIELDS };
