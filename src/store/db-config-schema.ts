/** How each DB-sourced setting is validated when read back (see DbConfigValues in ports.ts). */
import * as z from 'zod';
import type { DbConfigKey, DbConfigValues } from './ports.js';

export const DB_CONFIG_SCHEMA: { readonly [K in DbConfigKey]: z.ZodType<DbConfigValues[K]> } = {
  localMode: z.boolean(),
  initialConfigReported: z.string(),
  initialConfigSaved: z.boolean(),
  name: z.string(),
};
