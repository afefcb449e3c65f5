/**
 * Validation of a v3 device document: the schema (docs/protocol.md#target-document), every service's
 * composition (compose/), image names, and the cross-field rules (release-checks). All problems are collected
 * and the target is rejected whole with VALIDATION_FAILED; warnings (ignored keys, fallbacks) are returned
 * beside it.
 */
import { parseComposeService } from '../compose/compose-service.js';
import { parseNetworkDefinition, parseVolumeDefinition } from '../compose/release-resources.js';
import type { NetworkDefinition, VolumeDefinition } from '../compose/release-resources.js';
import { normaliseImageName } from '../image-name.js';
import { IssueCollector, reportPrototypeKeys } from '../issues.js';
import { containerName } from '../names.js';
import { SUPERVISOR_NETWORK } from '../context.js';
import { setOwn } from '../records.js';
import { addZodIssues } from '../zod-issues.js';
import { checkDeviceBounds } from './bounds.js';
import { checkRelease } from './release-checks.js';
import { TargetDeviceSchema } from './v3-schema.js';
import type { TargetAppDoc, TargetReleaseDoc, TargetServiceDoc } from './v3-schema.js';
import type {
  ValidatedApp,
  ValidatedRelease,
  ValidatedService,
  ValidatedTarget,
} from './validated.js';

export interface Validated<T> {
  value: T;
  warnings: string[];
}

/** Validates one device's v3 target (`{name, config, apps}`); throws VALIDATION_FAILED listing every issue. */
export function validateTargetDevice(raw: unknown): Validated<ValidatedTarget> {
  const issues = new IssueCollector();
  // Bounds first: they make every later (recursive) check safe to run on what is left.
  checkDeviceBounds(raw, issues);
  issues.throwIfAny('target state');
  reportPrototypeKeys(raw, issues);
  const parsed = TargetDeviceSchema().safeParse(raw);
  if (!parsed.success) {
    addZodIssues(issues, parsed.error);
    collectNestedIssues(raw, issues);
    issues.throwIfAny('target state');
  }
  const doc = parsed.data!;
  const apps: Record<string, ValidatedApp> = {};
  for (const [uuid, app] of Object.entries(doc.apps))
    setOwn(apps, uuid, validateApp(uuid, app, issues.at('apps', uuid)));
  checkAcrossApps(apps, issues);
  issues.throwIfAny('target state');
  return {
    value: { name: doc.name, config: doc.config, apps, document: doc },
    warnings: [...issues.warnings],
  };
}

function validateApp(uuid: string, app: TargetAppDoc, issues: IssueCollector): ValidatedApp {
  const releases = Object.entries(app.releases ?? {});
  if (releases.length > 1)
    issues.warn(
      ['releases'],
      `${releases.length} releases given; only the first (${releases[0]![0]}) is used`,
    );
  const first = releases[0];
  return {
    uuid,
    appId: app.id,
    name: app.name,
    class: app.class ?? 'fleet',
    isHost: app.is_host ?? false,
    release:
      first === undefined
        ? undefined
        : validateRelease(first[0], first[1], issues.at('releases', first[0])),
  };
}

function validateRelease(
  commit: string,
  release: TargetReleaseDoc,
  issues: IssueCollector,
): ValidatedRelease {
  const issuesBefore = issues.issues.length;
  const networks: Record<string, NetworkDefinition> = {};
  for (const [name, raw] of Object.entries(release.networks ?? {})) {
    const def = parseNetworkDefinition(raw, issues.at('networks', name));
    if (def !== undefined) setOwn(networks, name, def);
  }
  const volumes: Record<string, VolumeDefinition> = {};
  for (const [name, raw] of Object.entries(release.volumes ?? {})) {
    const def = parseVolumeDefinition(raw, issues.at('volumes', name));
    if (def !== undefined) setOwn(volumes, name, def);
  }
  const services: Record<string, ValidatedService> = {};
  for (const [name, doc] of Object.entries(release.services ?? {})) {
    const service = validateService(name, doc, issues.at('services', name));
    if (service !== undefined) setOwn(services, name, service);
  }
  const validated: ValidatedRelease = {
    commit,
    releaseId: release.id,
    services,
    networks,
    volumes,
  };
  // Cross-field checks only make sense on services that parsed; the others are already reported.
  if (issues.issues.length === issuesBefore) checkRelease(validated, issues);
  return validated;
}

function validateService(
  serviceName: string,
  doc: TargetServiceDoc,
  issues: IssueCollector,
): ValidatedService | undefined {
  const image = normaliseImageName(doc.image);
  if (typeof image !== 'string') issues.issue(['image'], image.error);
  const compose = parseComposeService(doc.composition ?? {}, issues.at('composition'));
  if (compose === undefined || typeof image !== 'string') return undefined;
  if (compose.networks?.some((n) => n.name === SUPERVISOR_NETWORK)) {
    // Joining supervisor0 is what the supervisor-api feature label does; balena drops it otherwise too.
    issues.warn(
      ['composition', 'networks', SUPERVISOR_NETWORK],
      'joined only through the io.balena.features.supervisor-api label, ignored',
    );
    compose.networks = compose.networks.filter((n) => n.name !== SUPERVISOR_NETWORK);
  }
  // The cloud's `image` is the registry location to pull; `composition.image` is only what the developer
  // wrote (docs/protocol.md#what-the-cloud-sends, fixtures/cloud/README.md). balena lets the composition win
  // [quirk]; we do not.
  return {
    serviceName,
    serviceId: doc.id,
    imageId: doc.image_id,
    image,
    running: doc.running ?? true,
    environment: { ...compose.environment, ...doc.environment },
    labels: { ...compose.labels, ...doc.labels },
    compose,
  };
}

/** Engine names must be unique across the whole device: apps share one engine. */
function checkAcrossApps(apps: Record<string, ValidatedApp>, issues: IssueCollector): void {
  const containers = new Map<string, string>();
  const appIds = new Map<number, string>();
  for (const app of Object.values(apps)) {
    const other = appIds.get(app.appId);
    if (other !== undefined)
      issues.issue(
        ['apps', app.uuid, 'id'],
        `app id ${app.appId} is also used by app ${other} (volume names would collide)`,
      );
    appIds.set(app.appId, app.uuid);
    const release = app.release;
    if (release === undefined) continue;
    for (const service of Object.values(release.services)) {
      const name = containerName(
        service.serviceName,
        service.imageId,
        release.releaseId,
        release.commit,
      );
      const clash = containers.get(name);
      const path = ['apps', app.uuid, 'releases', release.commit, 'services', service.serviceName];
      if (clash !== undefined)
        issues.issue(path, `container name "${name}" is also the name of ${clash}`);
      containers.set(name, path.join('.'));
    }
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const recordAt = (v: unknown, key: string): Record<string, unknown> =>
  isRecord(v) && Object.hasOwn(v, key) && isRecord(v[key]) ? v[key] : {};

/**
 * When the document's shape is already wrong, still check what the schema does not look into (the
 * compositions, image names), so that one rejection lists every problem.
 */
function collectNestedIssues(raw: unknown, issues: IssueCollector): void {
  const reported = new Set(issues.issues.map((i) => i.path));
  for (const [uuid, app] of Object.entries(recordAt(raw, 'apps'))) {
    for (const [commit, release] of Object.entries(recordAt(app, 'releases'))) {
      for (const [name, service] of Object.entries(recordAt(release, 'services'))) {
        const at = issues.at('apps', uuid, 'releases', commit, 'services', name);
        if (isRecord(service) && isRecord(service['composition']))
          parseComposeService(service['composition'], at.at('composition'));
        const image = isRecord(service) ? service['image'] : undefined;
        if (
          typeof image === 'string' &&
          !reported.has(`apps.${uuid}.releases.${commit}.services.${name}.image`)
        ) {
          const normalised = normaliseImageName(image);
          if (typeof normalised !== 'string') at.issue(['image'], normalised.error);
        }
      }
    }
  }
}
