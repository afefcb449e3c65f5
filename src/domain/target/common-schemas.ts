/**
 * Scalar rules shared by the cloud (v3) and local (v2) target documents (docs/protocol.md#target-document).
 */
import * as z from 'zod';
import { lazy } from '../../shared/lazy.js';

export const ShortString = lazy(() => z.string().max(255, 'must be at most 255 characters'));

/** Non-negative integer, given as a number or a numeric string (the cloud sends both). */
export const NumericIdentifier = lazy(() =>
  z.union(
    [
      z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
      z
        .string()
        .regex(/^\d{1,15}$/)
        .transform(Number),
    ],
    { error: 'must be a non-negative integer (number or numeric string)' },
  ),
);

/** An id that must be at least 1 (app ids: 0 would read as "no app" and block loading the target). */
export const PositiveIdentifier = lazy(() =>
  z.union(
    [
      z
        .number()
        .int()
        .min(1, 'must be a positive integer, at least 1 (0 is no app)')
        .max(Number.MAX_SAFE_INTEGER),
      z
        .string()
        .regex(/^[1-9]\d{0,14}$/)
        .transform(Number),
    ],
    { error: 'must be a positive integer (number or numeric string), at least 1' },
  ),
);

export const DockerName = lazy(() =>
  z
    .string()
    .regex(
      /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/,
      'must start with a letter or digit and contain only letters, digits, "_", "." and "-"',
    )
    .max(255, 'must be at most 255 characters'),
);

export const EnvVarName = lazy(() =>
  z
    .string()
    .regex(
      /^[a-zA-Z_][a-zA-Z0-9_]*$/,
      'environment variable names must match ^[a-zA-Z_][a-zA-Z0-9_]*$',
    )
    .max(255, 'must be at most 255 characters'),
);

export const ConfigVarName = lazy(() =>
  z
    .string()
    .regex(
      /^[a-zA-Z_][a-zA-Z0-9_:]*$/,
      'config variable names must match ^[a-zA-Z_][a-zA-Z0-9_:]*$',
    )
    .max(255, 'must be at most 255 characters'),
);

export const LabelName = lazy(() =>
  z
    .string()
    .regex(/^[!#-&(-_a-~]+$/, 'label names must be printable ASCII without spaces or quotes')
    .max(255, 'must be at most 255 characters'),
);

export const DeviceName = lazy(() =>
  ShortString().refine((s) => !s.includes('\n'), 'must not contain a newline'),
);

export const EnvRecord = lazy(() =>
  z.record(EnvVarName(), z.string({ error: 'environment values must be strings' })),
);
export const LabelRecord = lazy(() =>
  z.record(LabelName(), z.string({ error: 'label values must be strings' })),
);
export const ConfigRecord = lazy(() =>
  z.record(ConfigVarName(), z.string({ error: 'config values must be strings' })),
);

/** Release-level volume and network definitions; checked in detail by the compose parsers. */
export const ResourceDefinitions = lazy(() =>
  z.record(DockerName(), z.record(z.string(), z.unknown()).nullable()),
);
