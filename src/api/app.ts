/**
 * createApi: the express 5 app for the local API, built from the route table with no global state.
 * Every request first passes the cross-site and DNS-rebinding guards (request-guard.ts).
 * Per route: authenticate → parse the JSON body (only after auth, so unauthenticated callers cannot
 * make us parse 10 MB) → precondition → validate → handler. Errors of every kind end in one middleware that maps
 * registry codes to HTTP (http-errors.ts). express 5 forwards rejected promises to it, so no request hangs.
 */
import express, { type Express, type RequestHandler } from 'express';
import type { Logger } from '../shared/logger.js';
import type { AgentApi } from './agent-api.js';
import { authenticate, scopeOf } from './auth.js';
import { errorMiddleware, notFoundHandler, setErrorShape } from './http-errors.js';
import { isBosunError } from '../shared/errors.js';
import { buildOpenApi } from './openapi.js';
import { refuseForeignRequests, requireJsonBody } from './request-guard.js';
import { defineRoute, sendJson, type RouteDef } from './route.js';
import { dashboardRoutes, type DashboardOptions } from './routes/dashboard.js';
import { healthRoutes } from './routes/health.js';
import { localRoutes, type LocalLogsHandler } from './routes/local.js';
import { metricsRoutes, type MetricsEndpoint } from './routes/metrics.js';
import { logRoutes, type RecentLogsHandler } from './routes/logs.js';
import { planRoutes, type PlanPreviewEndpoint } from './routes/plan.js';
import { v1Routes } from './routes/v1.js';
import { v2Routes } from './routes/v2.js';
import { validate } from './validate.js';
import { weakEtag } from './etag.js';

export const BODY_LIMIT = '10mb';

export interface ApiOptions {
  logger: Logger;
  /** Mounted at GET /v2/local/logs; without it that route answers 503. */
  localLogs?: LocalLogsHandler | undefined;
  /** GET /metrics; without it that route answers 503. */
  metrics?: MetricsEndpoint | undefined;
  /** Told every finished request by route template (never the raw URL), for metrics. */
  observeRequest?: ((request: ObservedRequest) => void) | undefined;
  /** The local dashboard at /dashboard; without it those routes answer 503. */
  dashboard?: DashboardOptions | undefined;
  /** Answers GET /v2/logs/recent from the log spool; without it that route answers 503. */
  recentLogs?: RecentLogsHandler | undefined;
  /**
   * Names of this device a Host header may carry besides IP literals, localhost and `.local` names
   * (the DNS-rebinding guard, request-guard.ts). Read per request: the hostname can change at run time.
   */
  deviceHostnames?: () => readonly string[];
  /** POST /v2/plan; without it that route answers 503. */
  planPreview?: PlanPreviewEndpoint | undefined;
}

export interface ObservedRequest {
  /** Express route template (`/v2/applications/:appId/restart`), or `unmatched`. */
  route: string;
  method: string;
  status: number;
  seconds: number;
}

function openApiRoute(routes: () => readonly RouteDef[]): RouteDef {
  return defineRoute({
    method: 'get',
    path: '/v2/openapi.json',
    tag: 'meta',
    summary: 'This description (OpenAPI 3.1), generated from the schemas that validate requests.',
    // It reveals no secrets, but it does reveal the agent version, which we do not hand to anonymous
    // callers on a managed device.
    auth: 'key',
    responses: { 200: { description: 'OpenAPI 3.1 document' } },
    handler: ({ res, agent }) => sendJson(res, 200, buildOpenApi(routes(), agent.version())),
  });
}

export function apiRoutes(
  options: Pick<
    ApiOptions,
    'localLogs' | 'metrics' | 'dashboard' | 'recentLogs' | 'planPreview'
  > = {},
): RouteDef[] {
  const routes: RouteDef[] = [
    ...healthRoutes,
    ...v1Routes,
    ...v2Routes,
    ...localRoutes(options.localLogs),
    ...metricsRoutes(options.metrics),
    ...dashboardRoutes(options.dashboard),
    ...logRoutes(options.recentLogs),
    ...planRoutes(options.planPreview),
  ];
  routes.push(openApiRoute(() => routes));
  return routes;
}

function requestLog(logger: Logger, observe: ApiOptions['observeRequest']): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      // The route template, never the path: ids in paths would make label values unbounded.
      const template: unknown = (req.route as { path?: unknown } | undefined)?.path;
      observe?.({
        route: typeof template === 'string' ? template : 'unmatched',
        method: req.method,
        status: res.statusCode,
        seconds: ms / 1000,
      });
      // req.path, never the URL: the query may carry ?apikey=.
      logger.debug('api.request', {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Math.round(ms * 100) / 100,
      });
    });
    next();
  };
}

/**
 * express.json, made on the first request with a body rather than when the route is mounted: the
 * bundle loads body-parser (and node:zlib with it) only then (scripts/build-plugins.mjs), so an agent
 * nobody posts to does not carry it.
 */
function jsonParserOnFirstUse(): RequestHandler {
  let parse: RequestHandler | undefined;
  return (req, res, next) => {
    parse ??= express.json({ limit: BODY_LIMIT });
    return parse(req, res, next);
  };
}

function mount(app: Express, agent: AgentApi, route: RouteDef): void {
  const steps: RequestHandler[] = [];
  if (route.errorShape !== undefined) {
    const shape = route.errorShape;
    steps.push((_req, res, next) => {
      setErrorShape(res, shape);
      next();
    });
  }
  steps.push(authenticate(agent, route.auth));
  if (route.body !== undefined) {
    // JSON only: form encodings are what a foreign web page can post without a CORS preflight.
    steps.push(requireJsonBody(), jsonParserOnFirstUse());
  }
  steps.push(async (req, res) => {
    route.precondition?.(agent);
    const rawBody: unknown = req.body;
    let body: unknown;
    try {
      body = route.body === undefined ? undefined : validate(route.body(), rawBody ?? {}, 'body');
    } catch (err) {
      if (route.targetBody === true && isBosunError(err, 'VALIDATION_FAILED'))
        agent.targetRefused(err);
      throw err;
    }
    const query: unknown =
      route.query === undefined ? undefined : validate(route.query(), req.query, 'query');
    await route.handler({ req, res, agent, scope: scopeOf(res), body, query });
  });
  app[route.method](route.path, ...steps);
}

export function createApi(agent: AgentApi, options: ApiOptions): Express {
  const logger = options.logger.child({ component: 'api' });
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('etag', weakEtag);
  app.use(requestLog(logger, options.observeRequest));
  const hostnames = options.deviceHostnames ?? (() => []);
  app.use(refuseForeignRequests(hostnames));
  for (const route of apiRoutes(options)) mount(app, agent, route);
  app.use(notFoundHandler());
  app.use(errorMiddleware(logger));
  return app;
}
