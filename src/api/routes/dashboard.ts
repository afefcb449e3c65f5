/**
 * The local dashboard: a static page (public: it holds no data) and the two things it reads, the view
 * in plain words and the log stream, both open in local mode like the whole local API and
 * key-protected otherwise. Actions go through the API's own action routes, so they are protected the
 * same way: the page keeps the key in sessionStorage and sends it as a header, never in a cookie a
 * foreign site could ride on.
 */
import type { Response } from 'express';
import { BosunError } from '../../shared/errors.js';
import type { KeyScope } from '../agent-api.js';
import type { DashboardAssets } from '../dashboard-assets.js';
import type { DashboardPort } from '../dashboard-types.js';
import { defineRoute, sendJson, type RouteDef } from '../route.js';

export interface DashboardOptions {
  port: DashboardPort;
  assets: DashboardAssets;
}

/** Only our own script, style and API: an injected script or a framing page gets nowhere. */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function sendAsset(res: Response, type: string, body: string): void {
  res
    .status(200)
    .set({
      'Content-Type': `${type}; charset=utf-8`,
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-cache',
    })
    .send(body);
}

function asset(
  path: string,
  type: string,
  body: (a: DashboardAssets) => string,
  options: DashboardOptions | undefined,
): RouteDef {
  return defineRoute({
    method: 'get',
    path,
    tag: 'meta',
    summary: `Dashboard file (${type}).`,
    auth: 'public',
    responses: { 200: { description: type, text: true } },
    handler: ({ res }) => {
      if (options === undefined) throw new BosunError('NOT_READY', 'the dashboard is not enabled');
      sendAsset(res, type, body(options.assets));
    },
  });
}

/** The dashboard shows every app: an app-scoped key (a container's) must not read other apps through it. */
export function requireDeviceWide(scope: KeyScope): void {
  if (scope.kind !== 'global')
    throw new BosunError('FORBIDDEN', 'This needs the device API key, not an app-scoped key');
}

export function dashboardRoutes(options: DashboardOptions | undefined): RouteDef[] {
  return [
    defineRoute({
      method: 'get',
      path: '/',
      tag: 'meta',
      summary: 'Redirects to the dashboard.',
      auth: 'public',
      responses: { 302: { description: 'To /dashboard' } },
      handler: ({ res }) => res.redirect(302, '/dashboard'),
    }),
    asset('/dashboard', 'text/html', (a) => a.html, options),
    asset('/dashboard/dashboard.js', 'text/javascript', (a) => a.js, options),
    asset('/dashboard/dashboard.css', 'text/css', (a) => a.css, options),
    defineRoute({
      method: 'get',
      path: '/dashboard/state',
      tag: 'meta',
      summary:
        'The device, its apps and services, what they wait for and the current plan, in plain words.',
      auth: 'key',
      responses: { 200: { description: 'Dashboard view' } },
      handler: async ({ res, scope }) => {
        if (options === undefined)
          throw new BosunError('NOT_READY', 'the dashboard is not enabled');
        requireDeviceWide(scope);
        res.set('Cache-Control', 'no-store');
        sendJson(res, 200, await options.port.view());
      },
    }),
    defineRoute({
      method: 'get',
      path: '/dashboard/logs',
      tag: 'meta',
      summary: 'Live NDJSON stream of every log line (services and system lines), in every mode.',
      auth: 'key',
      responses: { 200: { description: 'NDJSON log lines', ndjson: true } },
      handler: ({ req, res, scope }) => {
        if (options === undefined)
          throw new BosunError('NOT_READY', 'the dashboard is not enabled');
        requireDeviceWide(scope);
        options.port.logs(req, res);
      },
    }),
  ];
}
