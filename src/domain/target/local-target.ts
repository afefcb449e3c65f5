/**
 * The v2 local body balena-cli posts to `POST /v2/local/target-state` (docs/protocol.md#local-target-state),
 * and its conversion to the v3 device form: the app id string becomes the app uuid, and every service key
 * other than the v2 metadata becomes the compose `composition`.
 */
import * as z from 'zod';
import { lazy } from '../../shared/lazy.js';
import { IssueCollector, reportPrototypeKeys, validationFailed } from '../issues.js';
import { addZodIssues } from '../zod-issues.js';
import { checkDepth } from './bounds.js';
import { ConfigRecord, DeviceName, NumericIdentifier, ShortString } from './common-schemas.js';

const LocalServiceSchema = lazy(() =>
  z.looseObject({
    serviceName: ShortString(),
    serviceId: NumericIdentifier(),
    imageId: NumericIdentifier(),
    image: ShortString(),
    running: z.boolean().optional(),
    environment: z.record(z.string(), z.unknown()).optional(),
    labels: z.record(z.string(), z.unknown()).optional(),
    contract: z.record(z.string(), z.unknown()).optional(),
  }),
);

const LocalAppSchema = lazy(() =>
  z.object({
    name: ShortString(),
    commit: ShortString().min(1, 'must not be empty').optional(),
    releaseId: NumericIdentifier().optional(),
    services: z.record(z.string(), LocalServiceSchema()).optional(),
    volumes: z.record(z.string(), z.unknown()).optional(),
    networks: z.record(z.string(), z.unknown()).optional(),
  }),
);

export const LocalTargetSchema = lazy(() =>
  z.object({
    local: z.object({
      name: DeviceName().optional(),
      config: ConfigRecord().optional(),
      apps: z
        .record(
          // App id 0 is no app: balena's ids start at 1, and 0 reads as "none" to every consumer.
          z.string().regex(/^[1-9]\d{0,14}$/, 'local app keys are numeric app ids of at least 1'),
          LocalAppSchema(),
        )
        .optional(),
    }),
    force: z.boolean().optional(),
  }),
);

/** The keys of a v2 service that are metadata; everything else is compose and goes to `composition`. */
const V2_METADATA_KEYS = new Set([
  'imageId',
  'serviceName',
  'image',
  'environment',
  'labels',
  'running',
  'serviceId',
  'contract',
]);

type Json = Record<string, unknown>;

export interface ConvertedLocalTarget {
  /** The v3 device form; still to be validated as such (values other than the v2 metadata are unchecked). */
  device: Json;
  force: boolean;
}

/** Converts a local v2 body to the v3 device form; throws VALIDATION_FAILED if its v2 shape is wrong. */
export function localTargetToV3(body: unknown, fallbackName: string): ConvertedLocalTarget {
  const collector = new IssueCollector();
  // Depth first (iteratively): the checks below recurse. Counts are checked on the v3 form.
  if (!checkDepth(body, collector)) collector.throwIfAny('local target state');
  reportPrototypeKeys(body, collector);
  const parsed = LocalTargetSchema().safeParse(body);
  if (!parsed.success || !collector.ok) {
    if (parsed.error) addZodIssues(collector, parsed.error);
    throw validationFailed('local target state', [...collector.issues]);
  }
  const { local, force } = parsed.data;
  const apps: Json = {};
  for (const [appKey, app] of Object.entries(local.apps ?? {})) {
    // Without a commit there is no release: the app's services are removed
    // (docs/protocol.md#local-target-state).
    const releases: Json = {};
    if (app.commit !== undefined) {
      const services: Json = {};
      for (const [serviceKey, service] of Object.entries(app.services ?? {})) {
        if (Object.hasOwn(services, service.serviceName)) {
          collector.issue(
            ['local', 'apps', appKey, 'services', serviceKey, 'serviceName'],
            `duplicate service name "${service.serviceName}"`,
          );
          continue;
        }
        const composition: Json = {};
        for (const [key, value] of Object.entries(service))
          if (!V2_METADATA_KEYS.has(key)) composition[key] = value;
        services[service.serviceName] = {
          id: service.serviceId,
          image_id: service.imageId,
          image: service.image,
          environment: service.environment ?? {},
          labels: service.labels ?? {},
          ...(service.running === undefined ? {} : { running: service.running }),
          ...(service.contract === undefined ? {} : { contract: service.contract }),
          composition,
        };
      }
      releases[app.commit] = {
        id: app.releaseId,
        services,
        volumes: app.volumes ?? {},
        networks: app.networks ?? {},
      };
    }
    apps[appKey] = { id: Number(appKey), name: app.name, class: 'fleet', is_host: false, releases };
  }
  collector.throwIfAny('local target state');
  return {
    device: { name: local.name ?? fallbackName, config: local.config ?? {}, apps },
    force: force ?? false,
  };
}
