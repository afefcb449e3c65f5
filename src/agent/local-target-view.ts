/**
 * The local target read back for balena-cli. balena serialises its internal app objects here (an
 * accidental API, docs/protocol.md#local-target-state); we give a small stable summary instead. The CLI
 * reuses only `name` and `config` and replaces `apps` wholesale.
 */
import type { LocalAppSummary } from '../api/agent-api.js';
import { BosunError } from '../shared/errors.js';
import type { JsonObject, JsonValue } from '../store/ports.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function num(value: unknown): number | undefined {
  return typeof value === 'number'
    ? value
    : typeof value === 'string' && /^\d+$/.test(value)
      ? Number(value)
      : undefined;
}

/** Raw v3 app documents (as stored) → the summary, keyed by app id. */
export function summariseLocalApps(
  apps: Readonly<Record<string, JsonObject>>,
): Record<string, LocalAppSummary> {
  const out: Record<string, LocalAppSummary> = {};
  for (const [key, app] of Object.entries(apps)) {
    const releases = isObject(app['releases']) ? Object.entries(app['releases']) : [];
    const [commit, release] = releases[0] ?? [undefined, undefined];
    const services: LocalAppSummary['services'] = {};
    const rawServices =
      isObject(release) && isObject(release['services']) ? release['services'] : {};
    for (const [serviceName, service] of Object.entries(rawServices)) {
      if (!isObject(service)) continue;
      const serviceId = num(service['id']) ?? 0;
      services[String(serviceId)] = {
        serviceName,
        serviceId,
        imageId: num(service['image_id']) ?? 0,
        image: typeof service['image'] === 'string' ? service['image'] : '',
        running: service['running'] !== false,
      };
    }
    out[String(num(app['id']) ?? key)] = {
      name: typeof app['name'] === 'string' ? app['name'] : '',
      commit,
      releaseId: isObject(release) ? num(release['id']) : undefined,
      services,
    };
  }
  return out;
}

function toJson(value: unknown, path: string): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new BosunError('VALIDATION_FAILED', `${path}: numbers must be finite`);
    return value;
  }
  if (Array.isArray(value)) return value.map((v, i) => toJson(v, `${path}.${i}`));
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value))
      if (v !== undefined) out[k] = toJson(v, `${path}.${k}`);
    return out;
  }
  throw new BosunError('VALIDATION_FAILED', `${path}: not representable as JSON`);
}

/** The converted apps map as the store wants it (JSON objects by app uuid). */
export function toJsonObjects(apps: unknown): Record<string, JsonObject> {
  if (!isObject(apps)) return {};
  const out: Record<string, JsonObject> = {};
  for (const [uuid, app] of Object.entries(apps)) {
    const json = toJson(app, `apps.${uuid}`);
    if (isObject(json)) out[uuid] = json;
  }
  return out;
}
