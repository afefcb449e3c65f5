/**
 * API keys as the facade sees them: resolving a presented key to its scope (cached, constant-time), and
 * the life cycle of app-scoped keys. An app-scoped key is only as alive as its app: it is refused as
 * soon as the app is no longer in the reconciler's target (checked in memory on every request, cache
 * or not), and its row is deleted when a target without the app is loaded, so an app that comes back
 * with the same id and service name gets a fresh key (revokeKeysOfRemovedApps).
 */
import type { KeyScope } from '../api/agent-api.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { ApiKeyRepository } from '../store/ports.js';
import { KeyCache } from './key-cache.js';
import { keysEqual } from './key-match.js';

/** Keys are 32 hex chars; anything outside \w is not a key we ever issued, so it is not looked up. */
const KEY_SHAPE = /^\w{1,128}$/;

export class ApiKeyResolver {
  private readonly cache: KeyCache;

  constructor(
    private readonly keys: ApiKeyRepository,
    clock: Clock,
    /** Ids of the apps in the current target (in memory). */
    private readonly targetAppIds: () => ReadonlySet<number>,
  ) {
    this.cache = new KeyCache(clock);
  }

  async resolve(key: string): Promise<KeyScope | undefined> {
    if (!KEY_SHAPE.test(key)) return undefined;
    const scope = this.cache.get(key) ?? (await this.lookup(key));
    // A removed app's key must stop working at once, not when its row is deleted or the cache expires.
    if (scope?.kind === 'app' && !this.targetAppIds().has(scope.appId)) return undefined;
    return scope;
  }

  async regenerate(key: string): Promise<string | undefined> {
    const fresh = await this.keys.regenerate(key);
    this.cache.clear();
    return fresh;
  }

  private async lookup(key: string): Promise<KeyScope | undefined> {
    const found = await this.keys.find(key);
    // The store finds by equality; the constant-time check also guards against a lookup that matched loosely.
    if (found === undefined || !keysEqual(key, found.key)) return undefined;
    const app = found.scopes.find((s) => s.type === 'app');
    const scope: KeyScope | undefined = found.scopes.some((s) => s.type === 'global')
      ? { kind: 'global' }
      : app?.type === 'app'
        ? { kind: 'app', appId: app.appId }
        : undefined;
    if (scope !== undefined) this.cache.set(key, scope);
    return scope;
  }
}

/**
 * Deletes the app-scoped keys of every app that has keys but is not in `targetAppIds` (the target just
 * loaded). Called on each target load; one small query when nothing was removed.
 */
export async function revokeKeysOfRemovedApps(
  keys: ApiKeyRepository,
  targetAppIds: ReadonlySet<number>,
  logger: Logger,
): Promise<number[]> {
  const removed = (await keys.appIdsWithKeys()).filter((id) => !targetAppIds.has(id));
  for (const appId of removed) {
    await keys.removeAppKeys(appId);
    logger.info('api-key.revoked', { appId, reason: 'the app left the target' });
  }
  return removed;
}
