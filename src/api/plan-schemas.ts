/**
 * `POST /v2/plan`: the request (a target in either shape, or nothing for the stored one) and the
 * answer, as zod schemas that both validate and document (openapi.ts).
 */
import * as z from 'zod';
import { lazy, type Built } from '../shared/lazy.js';
import { ShortString } from '../domain/target/common-schemas.js';
import { TargetDeviceSchema } from '../domain/target/v3-schema.js';
import { LocalTargetBody } from './schemas.js';

/** JSON Schema of a zod schema as a client sends it, for the description only. */
function described(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as Record<string, unknown>;
  delete json['$schema'];
  return json;
}

/**
 * Checked here only as a JSON object: the agent validates the target inside exactly as the target
 * endpoints do (the local-mode shape as POST /v2/local/target-state, the v3 shape as a fetched target),
 * so errors name the JSON path. The description lists both shapes.
 */
export const PlanBody = lazy(() =>
  z.record(z.string(), z.unknown()).meta({
    description:
      'A target to plan with: the local-mode shape ({"local": …}, as POST /v2/local/target-state) or the cloud v3 shape for one device ({"<uuid>": {name, config, apps}}); {} or no body: the stored target',
    anyOf: [described(LocalTargetBody()), described(z.record(ShortString(), TargetDeviceSchema()))],
  }),
);

const Nullable = <T extends z.ZodType>(schema: T) => schema.nullable();

export const PlanPreviewResponse = lazy(() =>
  z.object({
    status: z.literal('success'),
    target: z.enum(['given', 'stored']),
    converged: z.boolean().describe('Nothing to do and nothing waiting'),
    steps: z.array(
      z.object({
        id: z.string(),
        kind: z.string(),
        reason: z.string(),
        dependsOn: z.array(z.string()).describe('Ids of steps that must succeed first'),
        appUuid: Nullable(z.string()),
        serviceName: Nullable(z.string()),
        image: Nullable(z.string()),
      }),
    ),
    blockers: z.array(
      z.object({
        kind: z.string(),
        appUuid: Nullable(z.string()),
        serviceName: Nullable(z.string()),
        until: Nullable(z.number()).describe('Epoch ms the wait ends at the latest, when known'),
        text: z.string(),
      }),
    ),
    downloads: z.array(
      z.object({
        image: z.string(),
        bytes: Nullable(z.number().int().min(0)).describe('null: not known'),
      }),
    ),
    downloadBytes: Nullable(z.number().int().min(0)).describe(
      'Bytes to download in all (estimated from the registry manifests, layers on the engine counted as free); null when an image has no estimate',
    ),
    text: z.string().describe('The plan as text, one line per step then per blocker'),
  }),
);

export type PlanPreviewView = z.output<Built<typeof PlanPreviewResponse>>;
