/**
 * Authentication (docs/protocol.md#api-authentication, tightened): a key comes from `?apikey=` or
 * `Authorization: Bearer|ApiKey <key>` (scheme case-insensitive) and resolves to a scope through the agent,
 * which compares in constant time. As in balena-supervisor, local mode opens every route without a key:
 * anyone who can reach the API in local mode can already push a target (root on the device), so a key on the
 * other routes protects nothing and only breaks developers' scripts. What still protects the device from the
 * web is request-guard.ts (foreign origins, DNS rebinding, non-JSON bodies), which runs before this. The mode
 * is read per request: it can change at run time.
 */
import type { Request, RequestHandler, Response } from 'express';
import { BosunError } from '../shared/errors.js';
import type { AgentApi, KeyScope } from './agent-api.js';

/**
 * `public`: never authenticated (/ping, /v1/healthy).
 * `key`: open while the device is in local mode; otherwise every valid key is accepted, and app-specific
 * routes then check the scope against the app.
 */
export type AuthPolicy = 'public' | 'key';

const AUTH_HEADER = /^(?:bearer|apikey)\s+(\S+)\s*$/i;

/** The presented key, or undefined. The query wins over the header, as in balena. */
export function presentedKey(req: Request): string | undefined {
  const fromQuery: unknown = req.query['apikey'];
  if (typeof fromQuery === 'string' && fromQuery !== '') return fromQuery;
  const header = req.get('authorization');
  return header === undefined ? undefined : AUTH_HEADER.exec(header)?.[1];
}

export function scopeOf(res: Response): KeyScope {
  const scope = res.locals['scope'] as KeyScope | undefined;
  if (scope === undefined)
    throw new BosunError('INTERNAL', 'route ran without an authentication decision');
  return scope;
}

const GLOBAL: KeyScope = { kind: 'global' };
/** What an unauthenticated caller may see on an open route: the device is the developer's in local mode. */
const OPEN: KeyScope = GLOBAL;

export function authenticate(agent: AgentApi, policy: AuthPolicy): RequestHandler {
  return async (req, res, next) => {
    if (policy === 'public' || agent.isLocalMode()) {
      // A balena-cli user who ran `balena login` sends a cloud token here: it is deliberately ignored.
      res.locals['scope'] = OPEN;
      next();
      return;
    }
    const key = presentedKey(req);
    const scope = key === undefined ? undefined : await agent.resolveApiKey(key);
    if (scope === undefined) {
      throw new BosunError(
        'UNAUTHORIZED',
        key === undefined ? 'Unauthorized: no API key' : 'Unauthorized: unknown API key',
      );
    }
    res.locals['scope'] = scope;
    res.locals['apiKey'] = key;
    next();
  };
}

export function inScope(scope: KeyScope, appId: number): boolean {
  return scope.kind === 'global' || scope.appId === appId;
}

/**
 * A scoped key reaches only its own app. balena answers 401 here; we answer 403 because the key *is* valid
 * (401 would tell the container to fix its credentials, which would not help).
 */
export function requireScope(scope: KeyScope, appId: number): void {
  if (!inScope(scope, appId)) {
    throw new BosunError('FORBIDDEN', `This API key is not allowed to act on application ${appId}`);
  }
}
