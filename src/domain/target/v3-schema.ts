/**
 * The cloud target document (v3, docs/protocol.md#target-document) as zod schemas. `composition` is only
 * checked to be an object here; compose/ parses it field by field. Parsing coerces numeric-string ids to
 * numbers and fills the documented defaults, so the output is the "raw validated" form the store keeps.
 * Each schema is a getter (src/shared/lazy.ts), built when the first target is validated.
 */
import * as z from 'zod';
import { lazy, type Built } from '../../shared/lazy.js';
import {
  ConfigRecord,
  DeviceName,
  DockerName,
  EnvRecord,
  LabelRecord,
  NumericIdentifier,
  PositiveIdentifier,
  ResourceDefinitions,
  ShortString,
} from './common-schemas.js';

const JsonObject = lazy(() => z.record(z.string(), z.unknown()));

const REQUIREMENT_TYPES = [
  'sw.supervisor',
  'sw.l4t',
  'sw.os',
  'sw.kernel',
  'hw.device-type',
  'arch.sw',
] as const;

const Requirement = lazy(() =>
  z.looseObject({
    type: z.enum(REQUIREMENT_TYPES, {
      error: `requirement type must be one of ${REQUIREMENT_TYPES.join(', ')}`,
    }),
    slug: z.string().optional(),
    version: z.string().optional(),
  }),
);

/**
 * Release requirements (docs/protocol.md#release-contracts): shape only; whether the device meets them is
 * decided elsewhere.
 */
export const ContractSchema = lazy(() =>
  z.looseObject({
    type: z.string().optional(),
    slug: z.string().optional(),
    requires: z
      .array(
        z.union([Requirement(), z.object({ or: z.array(Requirement()) })], {
          error: 'must be a requirement {type, slug?, version?} or {or: [requirements]}',
        }),
      )
      .optional(),
  }),
);

export const TargetServiceSchema = lazy(() =>
  z.object({
    id: NumericIdentifier(),
    image_id: NumericIdentifier(),
    image: ShortString().min(1, 'must not be empty'),
    environment: EnvRecord(),
    labels: LabelRecord(),
    running: z.boolean().optional(),
    contract: ContractSchema().optional(),
    composition: JsonObject().optional(),
  }),
);

export const TargetReleaseSchema = lazy(() =>
  z.object({
    id: NumericIdentifier(),
    services: z.record(DockerName(), TargetServiceSchema()).optional(),
    volumes: ResourceDefinitions().optional(),
    networks: ResourceDefinitions().optional(),
  }),
);

export const TargetAppSchema = lazy(() =>
  z.object({
    id: PositiveIdentifier(),
    name: ShortString(),
    class: z.enum(['fleet', 'app', 'block']).optional(),
    releases: z.record(ShortString(), TargetReleaseSchema()).optional(),
    parent_app: ShortString().optional(),
    is_host: z.boolean().optional(),
  }),
);

export const TargetDeviceSchema = lazy(() =>
  z.object({
    name: DeviceName(),
    config: ConfigRecord(),
    apps: z.record(ShortString(), TargetAppSchema()),
  }),
);

/** Keyed by device uuid. */
export const TargetDocumentSchema = lazy(() => z.record(ShortString(), TargetDeviceSchema()));

export type TargetServiceDoc = z.output<Built<typeof TargetServiceSchema>>;
export type TargetReleaseDoc = z.output<Built<typeof TargetReleaseSchema>>;
export type TargetAppDoc = z.output<Built<typeof TargetAppSchema>>;
export type TargetDeviceDoc = z.output<Built<typeof TargetDeviceSchema>>;
/** The v3 wire form before validation (ids may still be numeric strings). */
export type TargetDeviceInput = z.input<Built<typeof TargetDeviceSchema>>;
