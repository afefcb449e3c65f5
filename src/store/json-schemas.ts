/** zod schemas for the JSON held in TEXT columns (the values came from JSON.parse, so JSON-ness is given). */
import * as z from 'zod';
import type { JsonObject } from './ports.js';

export const jsonObjectSchema = z.custom<JsonObject>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  { message: 'expected a JSON object' },
);

export const stringRecordSchema = z.record(z.string(), z.string());
