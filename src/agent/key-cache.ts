/**
 * Remembers resolved API keys for a short time so an authenticated request does not cost a SQLite query
 * (balena memoises lookups for 60 s). Entries are keyed by the SHA-256 of the key: the map lookup then
 * compares digests, whose prefixes an attacker cannot steer, so it leaks nothing about stored keys.
 * Only hits are cached (a key issued a moment ago works at once); regenerating clears everything.
 */
import { nodeCrypto } from '../shared/node-crypto.js';
import type { KeyScope } from '../api/agent-api.js';
import type { Clock } from '../shared/clock.js';

export const KEY_CACHE_TTL_MS = 10_000;
const MAX_ENTRIES = 1000;

export class KeyCache {
  private readonly entries = new Map<string, { scope: KeyScope; until: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = KEY_CACHE_TTL_MS,
  ) {}

  get(key: string): KeyScope | undefined {
    const digest = KeyCache.digest(key);
    const entry = this.entries.get(digest);
    if (entry === undefined) return undefined;
    if (entry.until <= this.clock.now()) {
      this.entries.delete(digest);
      return undefined;
    }
    return entry.scope;
  }

  set(key: string, scope: KeyScope): void {
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear(); // bounded; forgetting only costs a lookup
    this.entries.set(KeyCache.digest(key), { scope, until: this.clock.now() + this.ttlMs });
  }

  clear(): void {
    this.entries.clear();
  }

  private static digest(key: string): string {
    return nodeCrypto().createHash('sha256').update(key, 'utf8').digest('base64');
  }
}
