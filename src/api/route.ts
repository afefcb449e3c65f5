/**
 * Routes are declared as data (method, path, auth policy, zod schemas, responses) so that one table drives
 * both request validation and the OpenAPI description: the schema that checks a body is the schema that
 * documents it.
 */
import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { Lazy } from '../shared/lazy.js';
import type { AgentApi, KeyScope } from './agent-api.js';
import type { AuthPolicy } from './auth.js';
import type { ErrorShape } from './http-errors.js';

export type HttpMethod = 'get' | 'post' | 'patch';

export interface ResponseDoc {
  description: string;
  /**
   * JSON body schema; omit with `text` for plain-text bodies, or neither for empty bodies. A getter
   * (src/shared/lazy.ts): response schemas are built only when the OpenAPI description is asked for.
   */
  schema?: Lazy<z.ZodType>;
  text?: boolean;
  /** NDJSON stream. */
  ndjson?: boolean;
}

export interface RouteContext<B, Q> {
  req: Request;
  res: Response;
  agent: AgentApi;
  scope: KeyScope;
  body: B;
  query: Q;
}

export interface RouteDef<B extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType> {
  method: HttpMethod;
  /** Express path syntax (`/v1/apps/:appId`); the OpenAPI path is derived from it. */
  path: string;
  summary: string;
  auth: AuthPolicy;
  tag: 'health' | 'v1' | 'v2' | 'local' | 'meta';
  /** Getters (src/shared/lazy.ts): a route's schemas are built on its first request, not at start. */
  body?: Lazy<B>;
  query?: Lazy<Q>;
  responses: Record<number, ResponseDoc>;
  errorShape?: ErrorShape;
  /** The body is a target: a body that fails validation is reported as a refused target. */
  targetBody?: boolean;
  /** Checks that must answer before the body is validated (balena checks local mode before the body). */
  precondition?(agent: AgentApi): void;
  handler(ctx: RouteContext<z.output<B>, z.output<Q>>): Promise<void> | void;
}

/** Keeps the generic types of one route while letting routes of different types share an array. */
export function defineRoute<B extends z.ZodType = z.ZodUnknown, Q extends z.ZodType = z.ZodUnknown>(
  def: RouteDef<B, Q>,
): RouteDef {
  return def;
}

export function sendText(res: Response, status: number, text: string): void {
  res.status(status).type('text/plain').send(text);
}

export function sendJson(res: Response, status: number, body: unknown): void {
  res.status(status).json(body);
}
