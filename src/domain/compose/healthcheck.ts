/**
 * Compose `healthcheck` → engine Healthcheck (docs/protocol.md#healthcheck): durations in nanoseconds, a
 * string `test` runs through the shell (`CMD-SHELL`), `disable: true` → `["NONE"]`. Sub-keys are accepted in
 * compose (`start_period`) and camelCase (`startPeriod`) spelling; balena only read the latter [quirk].
 */
import * as z from 'zod';
import { lazy } from '../../shared/lazy.js';
import type { HealthcheckSpec } from '../container-spec.js';
import { DurationNs, Int, Str } from './scalars.js';

const Test = lazy(() =>
  z.union([Str().transform((s) => ['CMD-SHELL', s]), z.array(Str()).min(1, 'must not be empty')], {
    error: 'test must be a string or a list such as ["CMD", "curl", "-f", "http://localhost"]',
  }),
);

const HealthcheckObject = lazy(() =>
  z.object({
    test: Test().optional(),
    interval: DurationNs().optional(),
    timeout: DurationNs().optional(),
    start_period: DurationNs().optional(),
    startPeriod: DurationNs().optional(),
    retries: Int().min(0, 'must not be negative').optional(),
    disable: z.boolean().optional(),
  }),
);

export const Healthcheck = lazy(() =>
  HealthcheckObject().transform((hc, ctx): HealthcheckSpec | undefined => {
    if (hc.disable === true) return { Test: ['NONE'] };
    const test = hc.test;
    if (test !== undefined && !['NONE', 'CMD', 'CMD-SHELL'].includes(test[0]!)) {
      ctx.addIssue({
        code: 'custom',
        path: ['test'],
        message: 'a test list must start with "CMD", "CMD-SHELL" or "NONE"',
      });
      return z.NEVER;
    }
    if (
      test === undefined &&
      hc.interval === undefined &&
      hc.timeout === undefined &&
      hc.retries === undefined &&
      hc.start_period === undefined &&
      hc.startPeriod === undefined
    ) {
      return undefined;
    }
    // An empty Test makes the engine keep the image's test and overlay only the durations given.
    const spec: HealthcheckSpec = { Test: test ?? [] };
    if (hc.interval !== undefined) spec.Interval = hc.interval;
    if (hc.timeout !== undefined) spec.Timeout = hc.timeout;
    const startPeriod = hc.start_period ?? hc.startPeriod;
    if (startPeriod !== undefined) spec.StartPeriod = startPeriod;
    if (hc.retries !== undefined) spec.Retries = hc.retries;
    return spec;
  }),
);
