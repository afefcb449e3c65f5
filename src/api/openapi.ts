/**
 * OpenAPI 3.1 description generated from the route table and the very zod schemas that validate requests
 * (zod 4's toJSONSchema emits JSON Schema 2020-12, the dialect OpenAPI 3.1 uses). Request schemas are
 * described as clients send them (`io: "input"`): strings accepted for booleans and ids show as such.
 */
import * as z from 'zod';
import type { RouteDef } from './route.js';
import { FailedResponse } from './schemas.js';
import { cliCompatibleVersion } from './version.js';

type JsonObject = Record<string, unknown>;

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const json = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as JsonObject;
  delete json['$schema'];
  return json;
}

function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function queryParameters(route: RouteDef): JsonObject[] {
  const params: JsonObject[] = [];
  for (const match of route.path.matchAll(/:([A-Za-z0-9_]+)/g)) {
    params.push({
      name: match[1],
      in: 'path',
      required: true,
      schema: { type: 'string', pattern: '^\\d+$' },
    });
  }
  if (route.query !== undefined) {
    const json = schemaOf(route.query(), 'input');
    const props = (json['properties'] ?? {}) as Record<string, JsonObject>;
    const required = new Set((json['required'] ?? []) as string[]);
    for (const [name, schema] of Object.entries(props)) {
      params.push({ name, in: 'query', required: required.has(name), schema });
    }
  }
  return params;
}

function responsesOf(route: RouteDef): JsonObject {
  const out: JsonObject = {};
  for (const [status, doc] of Object.entries(route.responses)) {
    let content: JsonObject | undefined;
    if (doc.ndjson === true && doc.schema !== undefined) {
      content = { 'application/x-ndjson': { schema: schemaOf(doc.schema(), 'output') } };
    } else if (doc.schema !== undefined) {
      content = { 'application/json': { schema: schemaOf(doc.schema(), 'output') } };
    } else if (doc.text === true) {
      content = { 'text/plain': { schema: { type: 'string' } } };
    }
    out[status] =
      content === undefined
        ? { description: doc.description }
        : { description: doc.description, content };
  }
  out['default'] = {
    description: 'Error: the status comes from the error registry (docs/errors.md)',
    content: { 'application/json': { schema: schemaOf(FailedResponse(), 'output') } },
  };
  return out;
}

const AUTH_NOTE: Record<RouteDef['auth'], string> = {
  public: 'No authentication.',
  key: 'No authentication while the device is in local mode (browsers from other origins are refused); otherwise any valid API key, and app-scoped keys reach only their own app (403 otherwise).',
};

export function buildOpenApi(routes: readonly RouteDef[], agentVersion: string): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const route of routes) {
    const operation: JsonObject = {
      summary: route.summary,
      description: AUTH_NOTE[route.auth],
      tags: [route.tag],
      operationId: `${route.method}${openApiPath(route.path).replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      responses: responsesOf(route),
    };
    // `{}` first: no credentials are needed while the device is in local mode.
    if (route.auth !== 'public') operation['security'] = [{}, { apiKeyQuery: [] }, { bearer: [] }];
    const parameters = queryParameters(route);
    if (parameters.length > 0) operation['parameters'] = parameters;
    if (route.body !== undefined) {
      operation['requestBody'] = {
        required: false,
        content: {
          'application/json': { schema: schemaOf(route.body(), 'input') },
        },
      };
    }
    const path = openApiPath(route.path);
    paths[path] = { ...paths[path], [route.method]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'bosun device API',
      version: cliCompatibleVersion(agentVersion),
      description:
        'Local HTTP API on port 48484, compatible with balena-supervisor v1/v2 and balena-cli local mode.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: {
      securitySchemes: {
        apiKeyQuery: { type: 'apiKey', in: 'query', name: 'apikey' },
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: '`Authorization: Bearer <key>` or `ApiKey <key>`',
        },
      },
    },
    paths,
  };
}
