/**
 * `POST /v2/plan`: the request (a target in either shape, or nothing for the stored one) and the
 * answer, as zod schemas that both validate and document (openapi.ts). The target is checked here only
 * in outline; the agent validates it as it validates a pushed or fetched target (JSON paths in errors).
 */
import { z } from 'zod';
import { ShortString } from '../domain/target/common-schemas.js';
import { TargetDeviceSchema } from '../domain/target/v3-schema.js';
import { LocalTargetBody } from './schemas.js';

export const PlanBody = z
  .union([
    LocalTargetBody,
    z
      .record(ShortString, TargetDeviceSchema)
      .describe(
        'The cloud v3 shape for one device, {"<uuid>": {name, config, apps}}; {} (or no body) plans with the stored target',
      ),
  ])
  .describe(
    'A target to plan with: the local-mode shape or the v3 shape; nothing for the stored one',
  );

const Nullable = <T extends z.ZodType>(schema: T) => schema.nullable();

export const PlanPreviewResponse = z.object({
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
    'Bytes to download in all; null: not known (this version does not read manifest sizes)',
  ),
  text: z.string().describe('The plan as text, one line per step then per blocker'),
});

export type PlanPreviewView = z.output<typeof PlanPreviewResponse>;
