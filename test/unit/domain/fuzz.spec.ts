/** Property tests: whatever arrives, parsing either succeeds or throws VALIDATION_FAILED with issues. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  parseLocalTarget,
  parseTarget,
  parseTargetDevice,
} from '../../../src/domain/target/parse-target.js';
import { isBosunError } from '../../../src/shared/errors.js';
import { DEVICE_UUID, context, device, fixture, issuesOf } from './helpers.js';

const ctx = context();

function outcome(fn: () => unknown): 'ok' | 'rejected' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (!isBosunError(err, 'VALIDATION_FAILED')) throw err;
    const issues = err.details?.['issues'];
    assert.ok(Array.isArray(issues) && issues.length > 0, 'VALIDATION_FAILED must list issues');
    for (const issue of issues as Array<{ path: unknown; reason: unknown }>) {
      assert.equal(typeof issue.path, 'string');
      assert.equal(typeof issue.reason, 'string');
      assert.ok((issue.reason as string).length > 0);
    }
    return 'rejected';
  }
}

type Json = unknown;

/** Replaces the value at a random path of `doc` with `value` (or deletes the key). */
function mutate(doc: Json, choices: number[], value: Json, remove: boolean): Json {
  const copy = structuredClone(doc);
  let node: Json = copy;
  for (let depth = 0; depth < choices.length; depth++) {
    if (typeof node !== 'object' || node === null) break;
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const key = keys[choices[depth]! % keys.length]!;
    const child = (node as Record<string, Json>)[key];
    const last = depth === choices.length - 1 || typeof child !== 'object' || child === null;
    if (last) {
      if (remove) delete (node as Record<string, Json>)[key];
      else (node as Record<string, Json>)[key] = value;
      break;
    }
    node = child;
  }
  return copy;
}

const richDevice = device(
  {
    api: {
      environment: { A: '1' },
      labels: {
        'io.balena.features.supervisor-api': '1',
        'io.balena.update.strategy': 'hand-over',
      },
      composition: {
        ports: ['8080:80', 53],
        volumes: ['data:/data', { type: 'tmpfs', target: '/t' }],
        networks: { backend: { aliases: ['x'] }, default: null },
        depends_on: { cache: { condition: 'service_healthy' } },
        healthcheck: { test: 'true', interval: '5s' },
        mem_limit: '64m',
        command: 'sh -c "sleep 1"',
        restart: 'unless-stopped',
      },
    },
    cache: {
      composition: { network_mode: 'host', cap_add: ['NET_ADMIN'], ulimits: { nofile: 10 } },
    },
  },
  {
    networks: { backend: { ipam: { config: [{ subnet: '10.0.0.0/24', gateway: '10.0.0.1' }] } } },
    volumes: { data: {} },
  },
);

const anyJson = fc.jsonValue({ maxDepth: 4 });
const KEYS = [
  '__proto__',
  'constructor',
  'toString',
  'apps',
  'releases',
  'services',
  'composition',
  'environment',
  'labels',
  'ports',
  'volumes',
  'networks',
  'depends_on',
  'network_mode',
  'image',
  'id',
];
const trickyKey = fc.constantFrom(...KEYS);

describe('domain: parsing never crashes (fast-check)', () => {
  it('arbitrary JSON as a cloud target', () => {
    fc.assert(
      fc.property(anyJson, (value) => void outcome(() => parseTarget(value, ctx))),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(
        anyJson,
        (value) => void outcome(() => parseTarget({ [DEVICE_UUID]: value }, ctx)),
      ),
      { numRuns: 300 },
    );
  });

  it('arbitrary JSON as a local (v2) body', () => {
    fc.assert(
      fc.property(anyJson, (value) => void outcome(() => parseLocalTarget({ local: value }, ctx))),
      { numRuns: 300 },
    );
  });

  it('valid targets with one value replaced or removed anywhere', () => {
    const docs = [
      richDevice,
      (fixture('openbalena-v49.json') as Record<string, Json>)['3895e77a6c1df35d1b03f87e5c0fc638'],
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...docs),
        fc.array(fc.nat(), { minLength: 1, maxLength: 9 }),
        anyJson,
        fc.boolean(),
        (doc, path, value, remove) => {
          void outcome(() => parseTargetDevice(mutate(doc, path, value, remove), ctx));
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('compositions with arbitrary keys and values, including prototype names', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.oneof(trickyKey, fc.string()), anyJson, { maxKeys: 6 }),
        fc.dictionary(fc.oneof(trickyKey, fc.string({ maxLength: 8 })), fc.string(), {
          maxKeys: 4,
        }),
        (composition, environment) => {
          const result = outcome(() =>
            parseTargetDevice(device({ s: { composition, environment } }), ctx),
          );
          if (result === 'ok') {
            // Prototype-named keys must stay data: nothing reached Object.prototype.
            assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
          }
        },
      ),
      { numRuns: 800 },
    );
  });

  it('the valid documents themselves parse, and deterministically', () => {
    const a = parseTargetDevice(richDevice, ctx);
    const b = parseTargetDevice(structuredClone(richDevice), ctx);
    assert.deepEqual(a.target, b.target);
    assert.equal(
      outcome(() => parseTargetDevice(richDevice, ctx)),
      'ok',
    );
  });

  it('a key named __proto__ is rejected with a reason, never silently dropped or turned into a prototype', () => {
    const env = JSON.parse('{"__proto__": "x", "A": "1"}') as Record<string, string>;
    const issues = issuesOf(() => parseTargetDevice(device({ s: { environment: env } }), ctx));
    assert.deepEqual(
      issues.map((i) => i.reason),
      ['"__proto__" is a reserved name'],
    );
    assert.match(issues[0]!.path, /services\.s\.environment\.__proto__$/);
    const local = JSON.parse(
      '{"local": {"apps": {"1": {"name": "a", "commit": "c", "releaseId": 1, "services": {"1": {"serviceName": "s", "serviceId": 1, "imageId": 1, "image": "a", "labels": {"__proto__": "x"}}}}}}}',
    );
    assert.equal(
      issuesOf(() => parseLocalTarget(local, ctx))[0]!.path,
      'local.apps.1.services.1.labels.__proto__',
    );
  });
});
