/** Zod schemas for the scalar forms compose files use: durations, memory sizes, lists given as strings. */
import * as z from 'zod';
import { lazy } from '../../shared/lazy.js';
import { setOwn } from '../records.js';

const DURATION_UNITS_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};
const DURATION = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;

/** Go/compose duration (`1m30s`, `500ms`) in nanoseconds, or undefined if malformed. */
export function parseDurationNs(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART))
    total += Number(amount) * (DURATION_UNITS_NS[unit!] ?? 0);
  return Math.round(total);
}

export const DurationNs = lazy(() =>
  z
    .string({ error: 'must be a duration string such as "30s" or "1m30s"' })
    .transform((text, ctx) => {
      const ns = parseDurationNs(text.trim());
      if (ns === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `"${text}" is not a duration (use e.g. "30s", "1m30s", "500ms")`,
        });
        return z.NEVER;
      }
      return ns;
    }),
);

const MEMORY = /^([0-9]+)([bkmg]?)b?$/i;
const MEMORY_FACTOR: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Memory size as compose writes it (`256m`, `1g`, `1024`, 1024-based) in bytes, or undefined if malformed. */
export function parseMemoryBytes(value: string | number): number | undefined {
  if (typeof value === 'number')
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const match = MEMORY.exec(value.trim());
  if (!match) return undefined;
  const bytes = Number(match[1]) * (MEMORY_FACTOR[match[2]!.toLowerCase()] ?? 1);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

export const MemoryBytes = lazy(() =>
  z
    .union([z.string(), z.number()], {
      error: 'must be a memory size such as "256m" or a number of bytes',
    })
    .transform((value, ctx) => {
      const bytes = parseMemoryBytes(value);
      if (bytes === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `${JSON.stringify(value)} is not a memory size (use e.g. "256m", "1g" or bytes)`,
        });
        return z.NEVER;
      }
      return bytes;
    }),
);

export const Int = lazy(() => z.number({ error: 'must be an integer' }).int('must be an integer'));
export const Bool = lazy(() => z.boolean({ error: 'must be true or false' }));
export const Str = lazy(() => z.string({ error: 'must be a string' }));
export const StrList = lazy(() => z.array(Str(), { error: 'must be a list of strings' }));

/** A string or a list of strings (`dns: 8.8.8.8` or `dns: [8.8.8.8]`). */
export const StrOrList = lazy(() =>
  z.union([Str().transform((s) => [s]), StrList()], {
    error: 'must be a string or a list of strings',
  }),
);

/** A string or a number, kept as a string (`user: 1000`, `stop_signal: 9`). */
export const StrOrNum = lazy(() =>
  z.union([Str(), z.number().transform(String)], {
    error: 'must be a string or a number',
  }),
);

type Scalar = string | number | boolean | null;
const ScalarValue = lazy(() =>
  z.union([Str(), z.number(), z.boolean(), z.null()], {
    error: 'must be a string, number or boolean',
  }),
);

/**
 * `KEY=value` lists or `{KEY: value}` maps (environment, labels, sysctls), as a record of strings.
 * `KEY` alone in a list, or `KEY: null` in a map, means "from the host's shell" in compose, which a device
 * does not have: such entries are dropped and listed in `unset` for a warning.
 */
export const KeyValues = lazy(() =>
  z
    .union([z.array(Str()), z.record(z.string(), ScalarValue())], {
      error: 'must be a map or a list of "KEY=value" strings',
    })
    .transform((value) => {
      const values: Record<string, string> = {};
      const unset: string[] = [];
      const put = (key: string, v: Scalar): void => {
        if (v === null) unset.push(key);
        else setOwn(values, key, String(v));
      };
      if (Array.isArray(value)) {
        for (const entry of value) {
          const eq = entry.indexOf('=');
          if (eq < 0) put(entry, null);
          else put(entry.slice(0, eq), entry.slice(eq + 1));
        }
      } else {
        for (const [key, v] of Object.entries(value)) put(key, v);
      }
      return { values, unset };
    }),
);
