/**
 * Entry points: a raw target in → a normalised TargetState and warnings out, or VALIDATION_FAILED.
 *
 * The reconciler stores `document` (the validated v3 device form, also for local targets) and calls
 * `parseTargetDevice(document, ctx)` again on every loop with fresh device facts.
 */
import type { NormaliseContext } from '../context.js';
import { validationFailed } from '../issues.js';
import type { TargetState } from '../model.js';
import { normaliseTarget } from '../normalise-target.js';
import { getOwn } from '../records.js';
import { localTargetToV3 } from './local-target.js';
import type { TargetDeviceDoc } from './v3-schema.js';
import { validateTargetDevice } from './validate-target.js';

export interface ParsedTarget {
  target: TargetState;
  warnings: string[];
  /** The validated v3 device document: what to store and re-parse later. */
  document: TargetDeviceDoc;
}

/** One device's v3 target (`{name, config, apps}`), e.g. as stored. */
export function parseTargetDevice(rawDevice: unknown, ctx: NormaliseContext): ParsedTarget {
  const validated = validateTargetDevice(rawDevice);
  const normalised = normaliseTarget(validated.value, ctx);
  return {
    target: normalised.target,
    warnings: [...validated.warnings, ...normalised.warnings],
    document: validated.value.document,
  };
}

/** The cloud's `GET /device/v3/<uuid>/state` body: `{<deviceUuid>: {name, config, apps}}`. */
export function parseTarget(raw: unknown, ctx: NormaliseContext): ParsedTarget {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw validationFailed('target state', [
      { path: '(root)', reason: 'must be an object keyed by device uuid' },
    ]);
  }
  const device = getOwn(raw as Record<string, unknown>, ctx.deviceUuid);
  if (device === undefined) {
    throw validationFailed('target state', [
      {
        path: ctx.deviceUuid,
        reason: `the target has no entry for this device (${ctx.deviceUuid})`,
      },
    ]);
  }
  return parseTargetDevice(device, ctx);
}

/** The v2 body balena-cli posts to `POST /v2/local/target-state`. */
export function parseLocalTarget(
  body: unknown,
  ctx: NormaliseContext,
): ParsedTarget & { force: boolean } {
  const converted = localTargetToV3(body, ctx.deviceName);
  return {
    ...parseTargetDevice(converted.device, { ...ctx, source: 'local' }),
    force: converted.force,
  };
}
