/**
 * Issue 8, input gaps: a deeply nested value under an unknown key overflowed the stack (500 from the
 * API), app id 0 was accepted and then blocked loading, and a 9 MB target with 40,000 config vars was
 * accepted. Every bound is a VALIDATION_FAILED naming the path and what was too big.
 */
import assert from 'node:assert/strict';
import { TARGET_LIMITS } from '../../../src/domain/target/bounds.js';
import { parseLocalTarget, parseTargetDevice } from '../../../src/domain/target/index.js';
import { APP_UUID, context, device, issuesOf, SERVICE_PATH } from './helpers.js';

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { a: value } : [value];
  return value;
}

function many(count: number, value = 'v'): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`K${i}`, value]));
}

const localBody = (service: Record<string, unknown>, appKey = '1'): unknown => ({
  local: {
    name: 'dev',
    config: {},
    apps: {
      [appKey]: {
        name: 'a',
        commit: 'c1',
        releaseId: 1,
        services: {
          '1': {
            serviceName: 'main',
            serviceId: 1,
            imageId: 1,
            image: 'busybox',
            environment: {},
            labels: {},
            running: true,
            ...service,
          },
        },
      },
    },
  },
});

describe('domain: target bounds', () => {
  it('a value nested 20,000 deep under an unknown key is a VALIDATION_FAILED, not a stack overflow', () => {
    const local = issuesOf(() => parseLocalTarget(localBody({ extra: nested(20_000) }), context()));
    assert.match(local[0]!.path, /^local\.apps\.1\.services\.1\.extra/);
    assert.match(local[0]!.reason, /nested deeper than 32 levels/);
    const v3 = issuesOf(() =>
      parseTargetDevice(device({ main: { composition: { extra: nested(20_000) } } }), context()),
    );
    assert.match(v3[0]!.path, new RegExp(`^${SERVICE_PATH}\\.main\\.composition\\.extra`));
  });

  it('ordinary compose nesting passes', () => {
    const parsed = parseLocalTarget(
      localBody({ healthcheck: { test: ['CMD', 'true'] }, sysctls: { 'net.core.somaxconn': '1' } }),
      context(),
    );
    assert.equal(Object.keys(parsed.target.apps).length, 1);
  });

  it('app id 0 is refused naming the field, both local and v3', () => {
    const local = issuesOf(() => parseLocalTarget(localBody({}, '0'), context()));
    assert.ok(
      local.some((i) => i.path.startsWith('local.apps') && /app ids of at least 1/.test(i.reason)),
      JSON.stringify(local),
    );
    const doc = device({ main: {} }) as { apps: Record<string, { id: number }> };
    doc.apps[APP_UUID]!.id = 0;
    const v3 = issuesOf(() => parseTargetDevice(doc, context()));
    assert.ok(
      v3.some((i) => i.path === `apps.${APP_UUID}.id` && /at least 1/.test(i.reason)),
      JSON.stringify(v3),
    );
  });

  it('40,000 config vars are refused naming config and the bound', () => {
    const doc = { ...device({ main: {} }), config: many(40_000, 'x'.repeat(200)) };
    const issues = issuesOf(() => parseTargetDevice(doc, context()));
    const issue = issues.find((i) => i.path === 'config');
    assert.ok(issue, JSON.stringify(issues.slice(0, 3)));
    assert.match(issue.reason, /40000 config variables: at most 1000/);
    assert.ok(
      issues.some((i) => i.path === '(root)' && /bytes as JSON: at most 4194304/.test(i.reason)),
    );
  });

  const bounded: Array<{
    what: string;
    doc: () => unknown;
    path: string;
    reason: RegExp;
  }> = [
    {
      what: 'services in one release',
      doc: () =>
        device(
          Object.fromEntries(
            Array.from({ length: TARGET_LIMITS.maxServicesPerRelease + 1 }, (_, i) => [
              `s${i}`,
              {},
            ]),
          ),
        ),
      path: SERVICE_PATH,
      reason: /251 services: at most 250/,
    },
    {
      what: 'environment variables of a service',
      doc: () => device({ main: { environment: many(1_001) } }),
      path: `${SERVICE_PATH}.main.environment`,
      reason: /1001 environment variables: at most 1000/,
    },
    {
      what: 'labels of a service',
      doc: () => device({ main: { labels: many(1_001) } }),
      path: `${SERVICE_PATH}.main.labels`,
      reason: /1001 labels: at most 1000/,
    },
    {
      what: 'size of an environment value',
      doc: () => device({ main: { environment: { BIG: 'x'.repeat(70_000) } } }),
      path: `${SERVICE_PATH}.main.environment.BIG`,
      reason: /70000 characters: at most 65536/,
    },
    {
      what: 'size of a config var value',
      doc: () => ({ ...device({ main: {} }), config: { BIG: 'x'.repeat(70_000) } }),
      path: 'config.BIG',
      reason: /70000 characters: at most 65536/,
    },
  ];
  for (const c of bounded) {
    it(`bounds the ${c.what}`, () => {
      const issues = issuesOf(() => parseTargetDevice(c.doc(), context()));
      const match = issues.find((i) => i.path === c.path);
      assert.ok(match, `no issue at ${c.path}: ${JSON.stringify(issues.slice(0, 3))}`);
      assert.match(match.reason, c.reason);
    });
  }

  it('a big but real device passes: 60 services with 100 env vars each', () => {
    const fine = device(
      Object.fromEntries(
        Array.from({ length: 60 }, (_, i) => [`s${i}`, { environment: many(100, 'y'.repeat(64)) }]),
      ),
    );
    assert.equal(
      Object.keys(parseTargetDevice(fine, context()).target.apps[APP_UUID]!.release!.services)
        .length,
      60,
    );
  });
});
