/**
 * The reconciler's `loadTarget`: the stored target of the current origin (cloud or local), validated
 * and normalised whole against this device's facts, with the app-scoped API keys its services need.
 * It also keeps what was last loaded that others read (device name, config vars), so the rest of the
 * agent sees the target the reconciler applies.
 */
import type { ResolvedConfigVars } from '../config/config-vars.js';
import { resolveConfigVars } from '../config/config-vars.js';
import type { NormaliseContext } from '../domain/context.js';
import type { TargetState } from '../domain/model.js';
import { parseTargetDevice } from '../domain/target/index.js';
import { BosunError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { ApiKeyRepository, StoredTarget, TargetOrigin } from '../store/ports.js';
import { revokeKeysOfRemovedApps } from './api-keys.js';

export interface TargetLoaderDeps {
  targets: { load(origin: TargetOrigin): Promise<StoredTarget | undefined> };
  apiKeys: ApiKeyRepository;
  /** Where the target to apply comes from now (local mode follows the cloud's config var). */
  origin: () => TargetOrigin;
  /** Called before each load: local mode may switch (and leave) first. */
  beforeLoad: () => Promise<unknown>;
  /** This device's facts for normalisation; the app API key lookup and device name are added here. */
  context: () => Promise<Omit<NormaliseContext, 'appApiKey' | 'deviceName'>>;
  /** Told the config vars when a loaded target changed them (e.g. to mirror some into config.json). */
  configChanged?: (config: ResolvedConfigVars['config'], origin: TargetOrigin) => Promise<void>;
  logger: Logger;
}

export class TargetLoader {
  /** From the last loaded target ('local' before any). */
  deviceName = 'local';
  configVars: ResolvedConfigVars = resolveConfigVars({});
  storedConfig: Readonly<Record<string, string>> = {};
  private readonly log: Logger;

  constructor(private readonly deps: TargetLoaderDeps) {
    this.log = deps.logger.child({ component: 'main' });
  }

  /** This device's facts as normalisation sees them now (the plan preview normalises with them too). */
  readonly normaliseContext = async (
    appApiKey: NormaliseContext['appApiKey'],
  ): Promise<NormaliseContext> => ({
    ...(await this.deps.context()),
    deviceName: this.deviceName,
    appApiKey,
  });

  readonly load = async (): Promise<TargetState | undefined> => {
    const { deps, log } = this;
    await deps.beforeLoad();
    const stored = await deps.targets.load(deps.origin());
    if (stored === undefined) {
      await revokeKeysOfRemovedApps(deps.apiKeys, new Set(), log);
      return undefined;
    }
    this.deviceName = stored.name;
    const configChanged = JSON.stringify(stored.config) !== JSON.stringify(this.storedConfig);
    this.storedConfig = stored.config;
    this.configVars = resolveConfigVars(stored.config);
    // An invalid value falls back to the default; say so once per target, naming var and value.
    if (configChanged)
      for (const warning of this.configVars.warnings)
        log.warn('config-var.invalid', { ...warning });
    const doc = { name: stored.name, config: stored.config, apps: stored.apps };
    const base = { ...(await deps.context()), deviceName: this.deviceName };
    // Normalisation looks app-scoped API keys up synchronously, and only for services with the
    // supervisor-api feature. A first pass records which ones it asks for (its own feature rules
    // decide), the store creates or reads just those keys, and the second pass uses them.
    const wanted = new Map<string, [number, string]>();
    parseTargetDevice(doc, {
      ...base,
      appApiKey: (appId, serviceName) => {
        wanted.set(`${appId}/${serviceName}`, [appId, serviceName]);
        return '';
      },
    });
    const keys = new Map<string, string>();
    for (const [entry, [appId, serviceName]] of wanted)
      keys.set(entry, await deps.apiKeys.appKey(appId, serviceName));
    const parsed = parseTargetDevice(doc, {
      ...base,
      appApiKey: (appId, serviceName) => {
        const key = keys.get(`${appId}/${serviceName}`);
        if (key === undefined)
          throw new BosunError(
            'INTERNAL',
            `no API key prepared for app ${appId} service ${serviceName}`,
          );
        return key;
      },
    });
    for (const warning of parsed.warnings) log.warn('target.warning', { warning });
    if (configChanged) await deps.configChanged?.(this.configVars.config, deps.origin());
    // Keys of apps that left the target die with them; a returning app then gets a fresh key.
    const appIds = new Set(Object.values(parsed.target.apps).map((a) => a.appId));
    await revokeKeysOfRemovedApps(deps.apiKeys, appIds, log);
    return parsed.target;
  };
}
