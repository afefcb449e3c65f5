/**
 * Guards of the local API against the browser on the same LAN (or on the device itself). The API takes
 * no cookies, so the attacks are: a web page posting a form or a `no-cors` fetch straight at the device
 * (cross-site request), and a web page whose own DNS name is re-pointed at the device's address (DNS
 * rebinding), which the browser then treats as same-origin. So:
 *
 * - Host: only names a user types to reach a device pass (IP literals, localhost, `<name>.local`, the
 *   device's own hostnames). A rebinding page's Host is its own domain name and is refused.
 * - Origin / Sec-Fetch-Site: browsers send them, balena-cli and scripts do not. A request that says it
 *   comes from another origin is refused whatever its method.
 * - Content-Type: a body must be `application/json`, which a form or a simple fetch cannot send without a
 *   CORS preflight (which we never answer). See mount() in app.ts.
 */
import { isIP } from 'node:net';
import type { Request, RequestHandler } from 'express';
import { BosunError } from '../shared/errors.js';

/** Hostname part of a Host header (`[::1]:48484` → `::1`, `Dev.Local.:80` → `dev.local`), or undefined. */
export function hostnameOf(host: string): string | undefined {
  const value = host.trim().toLowerCase();
  if (value === '') return undefined;
  let name: string;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) return undefined;
    const rest = value.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    name = value.slice(1, end);
    return isIP(name) === 6 ? name : undefined;
  }
  const colon = value.lastIndexOf(':');
  if (colon >= 0) {
    if (!/^\d{1,5}$/.test(value.slice(colon + 1))) return undefined;
    name = value.slice(0, colon);
  } else name = value;
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/** The names a user reaches this device by: config.json's hostname, the OS hostname, the short uuid. */
export function deviceHostnames(
  config: { hostname?: string | undefined; uuid?: string | undefined },
  osHostname: string,
): string[] {
  const names = [config.hostname, osHostname, config.uuid?.slice(0, 7)];
  return names.filter((n): n is string => n !== undefined && n !== '');
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Whether a Host header names this device rather than somebody's domain (see the module comment). */
export function hostAllowed(host: string, deviceHostnames: readonly string[]): boolean {
  const name = hostnameOf(host);
  if (name === undefined || name === '') return false;
  if (isIP(name) !== 0) return true;
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  const labels = name.split('.');
  if (!labels.every((l) => LABEL.test(l))) return false;
  // mDNS names resolve only on the local link, which a public DNS record cannot rebind.
  if (labels.length >= 2 && labels.at(-1) === 'local') return true;
  return deviceHostnames.some((h) => h.toLowerCase() === name);
}

/** `host[:port]` of an Origin header value, or undefined when it is `null` or unparsable. */
function originHost(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.host : undefined;
  } catch {
    return undefined;
  }
}

/** The browser's own verdict: `same-origin` and `none` (typed into the address bar) pass. */
const FOREIGN_FETCH_SITES = new Set(['cross-site', 'same-site']);

export function refuseForeignRequests(deviceHostnames: () => readonly string[]): RequestHandler {
  return (req, _res, next) => {
    checkHost(req, deviceHostnames());
    checkOrigin(req);
    next();
  };
}

function checkHost(req: Request, deviceHostnames: readonly string[]): void {
  const host = req.headers.host;
  // HTTP/1.0 clients may omit Host; browsers never do, so no rebinding can come without one.
  if (host === undefined) return;
  if (!hostAllowed(host, deviceHostnames)) {
    throw new BosunError(
      'HOST_NOT_ALLOWED',
      `Host '${host.slice(0, 100)}' is not a name of this device: use its IP address, localhost, ` +
        `a .local name or one of its hostnames (${deviceHostnames.join(', ') || 'none known'})`,
    );
  }
}

function checkOrigin(req: Request): void {
  const site = req.get('sec-fetch-site');
  if (site !== undefined && FOREIGN_FETCH_SITES.has(site.trim().toLowerCase())) {
    throw new BosunError(
      'CROSS_ORIGIN_REFUSED',
      `Refused a ${site} browser request: the local API does not serve other web origins`,
    );
  }
  const origin = req.get('origin');
  if (origin === undefined) return;
  const from = originHost(origin);
  const host = req.headers.host;
  if (from === undefined || host === undefined || from.toLowerCase() !== host.toLowerCase()) {
    throw new BosunError(
      'CROSS_ORIGIN_REFUSED',
      `Refused a browser request from origin '${origin.slice(0, 100)}': the local API does not serve other web origins`,
    );
  }
}

/**
 * A body route reads JSON only. No Content-Type is accepted only when there is no body at all (an empty
 * POST means "all defaults"), which is what curl and balena's docs send for `{}`-less calls.
 */
export function requireJsonBody(): RequestHandler {
  return (req, _res, next) => {
    const type = req.get('content-type');
    if (type === undefined) {
      const length = req.get('content-length');
      const hasBody =
        req.get('transfer-encoding') !== undefined || (length !== undefined && length !== '0');
      if (!hasBody) {
        next();
        return;
      }
    }
    const mediaType = (type ?? '').split(';')[0]!.trim().toLowerCase();
    if (mediaType !== 'application/json') {
      throw new BosunError(
        'UNSUPPORTED_MEDIA_TYPE',
        `Request body must be application/json (got ${type === undefined ? 'no Content-Type' : `'${type.slice(0, 100)}'`})`,
      );
    }
    next();
  };
}
