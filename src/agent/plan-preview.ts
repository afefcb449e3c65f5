/**
 * The plan preview (`POST /v2/plan`, `bosun plan <file>`): what the agent would do now with a target
 * (the v3 shape, the local-mode shape) or with the one it applies, changing nothing. The target goes
 * through the same validation and normalisation as a stored one; API keys of services that ask for the
 * supervisor API are only looked up, never created (a missing one would be new, so the preview shows
 * the same recreate the apply would do); the planner runs on one fresh observation.
 *
 * Download sizes are the disk preflight's estimates (registry manifests, layers already on the engine
 * counted as free); an image without an estimate has `bytes` null, and then so has the total.
 */
import type { NormaliseContext } from '../domain/context.js';
import { validationFailed } from '../domain/issues.js';
import type { TargetState } from '../domain/model.js';
import { parseTargetDevice } from '../domain/target/index.js';
import { localTargetToV3 } from '../domain/target/local-target.js';
import type { UpdateWindow } from '../domain/update-window.js';
import type { PlanPreviewView } from '../api/plan-schemas.js';
import { planSettingsOf } from '../config/config-vars.js';
import type { ApiKeyRepository } from '../store/ports.js';
import { renderBlocker, renderPlan, type Plan, type Step } from '../planner/index.js';

/** Config the previewed target brings with it (its config vars), overriding the current one. */
export interface PreviewSettings {
  lockOverride?: boolean;
  updateWindow?: UpdateWindow | undefined;
}

export interface PlanPreviewDeps {
  /** The device facts normalisation needs, with this API key lookup. */
  normaliseContext(
    appApiKey: (appId: number, serviceName: string) => string,
  ): Promise<NormaliseContext>;
  /** A service's API key when it exists; never creates one. */
  peekAppKey(appId: number, serviceName: string): Promise<string | undefined>;
  settingsOf(config: Readonly<Record<string, string>>): PreviewSettings;
  /** The reconciler's preview: undefined `target` means the one it applies (undefined if none). */
  preview(
    target: TargetState | undefined,
    settings?: PreviewSettings,
  ): Promise<{ plan: Plan; needBytes?: Readonly<Record<string, number>> } | undefined>;
}

/** An API key that cannot be real (keys are 32 hex digits): stands in for one the apply would create. */
const NEW_KEY_PLACEHOLDER = 'preview-new-api-key';

export class PlanPreviewer {
  constructor(private readonly deps: PlanPreviewDeps) {}

  /** `body` undefined (or `{}`): the stored target. Throws VALIDATION_FAILED naming the JSON path. */
  async preview(body: unknown, deviceName: string): Promise<PlanPreviewView> {
    const given = body === undefined || isEmptyObject(body) ? undefined : body;
    let target: TargetState | undefined;
    let settings: PreviewSettings | undefined;
    if (given !== undefined) {
      const { device, source } = deviceDocument(given, deviceName);
      ({ target, settings } = await this.normalise(device, source));
    }
    const result = await this.deps.preview(target, settings);
    if (result === undefined)
      throw validationFailed('plan request', [
        { path: '(root)', reason: 'the agent has no target yet: give one in the body' },
      ]);
    return describePreview(result.plan, given === undefined ? 'stored' : 'given', result.needBytes);
  }

  private async normalise(
    device: unknown,
    source: NormaliseContext['source'],
  ): Promise<{ target: TargetState; settings: PreviewSettings }> {
    // Normalisation asks for keys synchronously: a first pass learns which, the store is read, a
    // second pass uses them (as the agent does when it loads a target, minus creating keys).
    const wanted = new Set<string>();
    parseTargetDevice(device, {
      ...(await this.deps.normaliseContext((appId, service) => {
        wanted.add(`${appId}/${service}`);
        return '';
      })),
      source,
    });
    const keys = new Map<string, string>();
    for (const entry of wanted) {
      const slash = entry.indexOf('/');
      const key = await this.deps.peekAppKey(Number(entry.slice(0, slash)), entry.slice(slash + 1));
      keys.set(entry, key ?? NEW_KEY_PLACEHOLDER);
    }
    const parsed = parseTargetDevice(device, {
      ...(await this.deps.normaliseContext(
        (appId, service) => keys.get(`${appId}/${service}`) ?? NEW_KEY_PLACEHOLDER,
      )),
      source,
    });
    return { target: parsed.target, settings: this.deps.settingsOf(parsed.document.config ?? {}) };
  }
}

function isEmptyObject(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 0
  );
}

/**
 * The device document of a request body: `{local: {…}}` as balena-cli pushes it, or the cloud's v3
 * `{<uuid>: {name, config, apps}}` for one device (any uuid: a fleet's target can be tried on this one).
 */
export function deviceDocument(
  body: unknown,
  deviceName: string,
): { device: unknown; source: NormaliseContext['source'] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw validationFailed('plan request', [{ path: '(root)', reason: 'must be an object' }]);
  if (Object.hasOwn(body, 'local'))
    return { device: localTargetToV3(body, deviceName).device, source: 'local' };
  const entries = Object.entries(body);
  if (entries.length !== 1)
    throw validationFailed('plan request', [
      {
        path: '(root)',
        reason: `a v3 target for one device ({"<uuid>": {name, config, apps}}) or a local target ({"local": …}); got ${entries.length} keys`,
      },
    ]);
  return { device: entries[0]?.[1], source: 'cloud' };
}

export function describePreview(
  plan: Plan,
  target: PlanPreviewView['target'],
  needBytes: Readonly<Record<string, number>> = {},
): PlanPreviewView {
  const downloads = plan.steps.flatMap((s) =>
    s.kind === 'pullImage' ? [{ image: s.image, bytes: needBytes[s.image] ?? null }] : [],
  );
  const known = downloads.every((d) => d.bytes !== null);
  return {
    status: 'success',
    target,
    converged: plan.steps.length === 0 && plan.blockers.length === 0,
    steps: plan.steps.map((s) => ({
      id: s.id,
      kind: s.kind,
      reason: s.reason,
      dependsOn: [...s.dependsOn],
      appUuid: s.appUuid ?? null,
      serviceName: serviceNameOf(s),
      image: imageOf(s),
    })),
    blockers: plan.blockers.map((b) => ({
      kind: b.kind,
      appUuid: b.appUuid ?? null,
      serviceName: 'serviceName' in b ? (b.serviceName ?? null) : null,
      until: 'until' in b ? b.until : null,
      text: renderBlocker(b),
    })),
    downloads,
    downloadBytes: known ? downloads.reduce((sum, d) => sum + (d.bytes ?? 0), 0) : null,
    text: renderPlan(plan),
  };
}

function serviceNameOf(s: Step): string | null {
  if (s.kind === 'createContainer') return s.service.serviceName;
  return 'serviceName' in s ? s.serviceName : null;
}

function imageOf(s: Step): string | null {
  if (s.kind === 'createContainer') return s.service.image;
  return s.kind === 'pullImage' || s.kind === 'removeImage' ? s.image : null;
}

/** What main.ts has at hand, for the `POST /v2/plan` endpoint. */
export interface PlanPreviewWiring {
  normaliseContext: PlanPreviewDeps['normaliseContext'];
  store: { apiKeys: Pick<ApiKeyRepository, 'peekAppKey'> };
  reconciler: {
    preview(
      target: TargetState | undefined,
      settings?: PreviewSettings,
    ): Promise<{ plan: Plan; needBytes?: Readonly<Record<string, number>> } | undefined>;
  };
}

export function planPreviewEndpoint(
  w: PlanPreviewWiring,
  deviceName: () => string,
): (body: unknown) => Promise<PlanPreviewView> {
  const previewer = new PlanPreviewer({
    normaliseContext: w.normaliseContext,
    peekAppKey: (appId, service) => w.store.apiKeys.peekAppKey(appId, service),
    settingsOf: planSettingsOf,
    preview: (target, settings) => w.reconciler.preview(target, settings),
  });
  return (body) => previewer.preview(body, deviceName());
}
