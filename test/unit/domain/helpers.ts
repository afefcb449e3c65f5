/** Shared builders for the domain specs: device facts, minimal valid targets, error capture. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { NormaliseContext } from '../../../src/domain/context.js';
import type { ValidationIssue } from '../../../src/domain/issues.js';
import { isBosunError } from '../../../src/shared/errors.js';

export const DEVICE_UUID = '3895e77a6c1df35d1b03f87e5c0fc638';
export const APP_UUID = 'd149c5d1551b4286a930d57284a02511';
export const COMMIT = '217d55237092995e4576367e529ebb03';

export function context(overrides: Partial<NormaliseContext> = {}): NormaliseContext {
  return {
    deviceUuid: DEVICE_UUID,
    deviceName: 'damp-brook',
    deviceType: 'raspberrypi4-64',
    deviceArch: 'aarch64',
    osVersion: 'balenaOS 6.1.0',
    osBoardRev: 'abc123',
    hostname: 'dev-host',
    apiEndpoint: 'https://api.example.test',
    deviceApiKey: 'device-key',
    supervisorNetworkGateway: '10.114.104.1',
    listenPort: 48484,
    appApiKey: (appId, serviceName) => `scoped-${appId}-${serviceName}`,
    source: 'cloud',
    lockRoot: '/tmp/balena-supervisor',
    engineSocketPath: '/var/run/docker.sock',
    hostHasKernelModules: true,
    hostHasFirmware: false,
    ...overrides,
  };
}

export function fixture(name: string): unknown {
  const path = fileURLToPath(new URL(`../../fixtures/targets/${name}`, import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8'));
}

export interface ServiceInput {
  image?: string;
  environment?: Record<string, unknown>;
  labels?: Record<string, unknown>;
  composition?: Record<string, unknown>;
  contract?: Record<string, unknown>;
  running?: boolean;
  id?: number;
  image_id?: number;
}

/** A one-app device target with the given services (image ids follow their order). */
export function device(
  services: Record<string, ServiceInput>,
  release: { networks?: Record<string, unknown>; volumes?: Record<string, unknown> } = {},
): Record<string, unknown> {
  let n = 0;
  const docs = Object.fromEntries(
    Object.entries(services).map(([name, s]) => {
      n++;
      return [
        name,
        {
          id: s.id ?? n,
          image_id: s.image_id ?? 100 + n,
          image: s.image ?? `registry.test/${name}:1`,
          environment: s.environment ?? {},
          labels: s.labels ?? {},
          ...(s.running === undefined ? {} : { running: s.running }),
          ...(s.composition === undefined ? {} : { composition: s.composition }),
          ...(s.contract === undefined ? {} : { contract: s.contract }),
        },
      ];
    }),
  );
  return {
    name: 'damp-brook',
    config: {},
    apps: {
      [APP_UUID]: {
        id: 1011165,
        name: 'sensor-fleet',
        class: 'fleet',
        releases: { [COMMIT]: { id: 557631, services: docs, ...release } },
      },
    },
  };
}

/** Wraps a device target in the cloud's `{<uuid>: device}` envelope. */
export function cloud(deviceDoc: unknown): Record<string, unknown> {
  return { [DEVICE_UUID]: deviceDoc };
}

/** Runs `fn`, asserts it throws VALIDATION_FAILED, and returns the issues. */
export function issuesOf(fn: () => unknown): ValidationIssue[] {
  try {
    fn();
  } catch (err) {
    assert.ok(
      isBosunError(err, 'VALIDATION_FAILED'),
      `expected VALIDATION_FAILED, got ${String(err)}`,
    );
    const issues = err.details?.['issues'];
    assert.ok(Array.isArray(issues) && issues.length > 0, 'VALIDATION_FAILED without issues');
    return issues as ValidationIssue[];
  }
  assert.fail('expected VALIDATION_FAILED, nothing was thrown');
}

export const SERVICE_PATH = `apps.${APP_UUID}.releases.${COMMIT}.services`;
