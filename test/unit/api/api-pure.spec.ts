/** Pure parts of the API: version mapping, error→HTTP table, renderers, key comparison and key cache. */
import assert from 'node:assert/strict';
import { KeyCache } from '../../../src/agent/key-cache.js';
import { keysEqual } from '../../../src/agent/key-match.js';
import type { StatusView } from '../../../src/api/agent-api.js';
import { toHttpError } from '../../../src/api/http-errors.js';
import { renderApplicationsState, renderStateStatus } from '../../../src/api/render.js';
import { StateStatusResponse } from '../../../src/api/schemas.js';
import { cliCompatibleVersion } from '../../../src/api/version.js';
import { BosunError, ERROR_REGISTRY, type ErrorCode } from '../../../src/shared/errors.js';

function semverCompare(a: string, b: string): number {
  const core = (v: string): number[] => v.split('+')[0]!.split('.').map(Number);
  const [x, y] = [core(a), core(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

describe('api: version mapping', () => {
  it('reports a semver that passes balena-cli gates and keeps bosun’s version as build metadata', () => {
    for (const v of ['0.1.0', '1.0.0', '0.0.1-rc.1']) {
      const mapped = cliCompatibleVersion(v);
      assert.match(mapped, /^\d+\.\d+\.\d+\+[0-9A-Za-z.-]+$/);
      assert.ok(semverCompare(mapped, '9.7.0') >= 0, mapped);
      assert.ok(mapped.endsWith(`bosun.${v}`), mapped);
    }
  });
});

describe('api: error → HTTP', () => {
  it('every registry code maps to its registry status', () => {
    for (const code of Object.keys(ERROR_REGISTRY) as ErrorCode[]) {
      assert.equal(
        toHttpError(new BosunError(code, 'x')).httpStatus,
        ERROR_REGISTRY[code].httpStatus,
        code,
      );
    }
  });

  it('body-parser errors become 413 / 400, anything else INTERNAL 500', () => {
    assert.equal(
      toHttpError({ type: 'entity.too.large', status: 413, message: 'too large' }).code,
      'PAYLOAD_TOO_LARGE',
    );
    assert.equal(
      toHttpError({ type: 'entity.parse.failed', status: 400, message: 'Unexpected token' }).code,
      'VALIDATION_FAILED',
    );
    assert.equal(
      toHttpError({ type: 'charset.unsupported', status: 415, message: 'bad charset' }).code,
      'VALIDATION_FAILED',
    );
    assert.equal(toHttpError(new Error('oops')).httpStatus, 500);
  });
});

describe('api: renderers', () => {
  const view: StatusView = {
    applying: true,
    apps: [
      {
        appId: 1,
        appUuid: 'u1',
        name: 'one',
        commit: 'c1',
        updateStatus: 'downloading',
        services: [
          {
            serviceName: 'a',
            serviceId: 1,
            imageId: 10,
            releaseId: 5,
            commit: 'c1',
            containerId: undefined,
            status: 'Downloading',
            createdAt: undefined,
            image: 'img/a',
            downloadProgress: 20,
          },
        ],
      },
      {
        appId: 2,
        appUuid: 'u2',
        name: 'two',
        commit: undefined,
        updateStatus: 'done',
        services: [],
      },
    ],
    images: [
      {
        name: 'img/a',
        appId: 1,
        serviceName: 'a',
        imageId: 10,
        dockerImageId: null,
        status: 'Downloading',
        downloadProgress: 20,
      },
      {
        name: 'img/b',
        appId: 1,
        serviceName: 'b',
        imageId: 11,
        dockerImageId: null,
        status: 'Downloading',
        downloadProgress: 61,
      },
    ],
  };

  it('state/status: applying, mean download progress over images, no containers yet', () => {
    const out = renderStateStatus(view, { kind: 'global' });
    assert.equal(out['appState'], 'applying');
    assert.equal(out['overallDownloadProgress'], 41);
    assert.deepEqual(out['containers'], []);
    assert.equal(out['release'], 'c1');
  });

  it('state/status: a failed release and a running window are shown (null otherwise), validated by the schema', () => {
    assert.equal(renderStateStatus(view, { kind: 'global' })['rollback'], null);
    assert.equal(renderStateStatus(view, { kind: 'global' })['confirmation'], null);
    const failed = {
      ...view,
      apps: view.apps.map((a) =>
        a.appId !== 1
          ? a
          : {
              ...a,
              releaseCheck: {
                failed: {
                  commit: 'c2',
                  reason: 'service a: its healthcheck reports unhealthy',
                  service: 'a',
                  cause: 'unhealthy' as const,
                  at: Date.UTC(2026, 0, 1),
                  rolledBackTo: 'c1',
                },
                watching: { commit: 'c3', until: Date.UTC(2026, 0, 2) },
              },
            },
      ),
    };
    const out = renderStateStatus(failed, { kind: 'global' });
    assert.deepEqual(out['rollback'], {
      failedRelease: 'c2',
      reason: 'service a: its healthcheck reports unhealthy',
      service: 'a',
      cause: 'unhealthy',
      at: '2026-01-01T00:00:00.000Z',
      rolledBackTo: 'c1',
    });
    assert.deepEqual(out['confirmation'], { release: 'c3', until: '2026-01-02T00:00:00.000Z' });
    assert.equal(StateStatusResponse().safeParse(out).success, true);
    assert.equal(
      StateStatusResponse().safeParse(renderStateStatus(view, { kind: 'global' })).success,
      true,
    );
  });

  it('a scoped key sees only its app', () => {
    assert.deepEqual(Object.keys(renderApplicationsState(view, { kind: 'app', appId: 2 })), [
      'two',
    ]);
    assert.deepEqual(renderStateStatus(view, { kind: 'app', appId: 2 })['images'], []);
  });
});

describe('api: keys', () => {
  it('keysEqual compares exactly, whatever the lengths', () => {
    assert.equal(keysEqual('abc', 'abc'), true);
    assert.equal(keysEqual('abc', 'abd'), false);
    assert.equal(keysEqual('abc', 'abcd'), false);
    assert.equal(keysEqual('', 'a'), false);
  });

  it('the key cache expires entries and forgets everything on clear', () => {
    let now = 0;
    const cache = new KeyCache({ now: () => now, sleep: () => Promise.resolve() }, 1000);
    cache.set('k1', { kind: 'global' });
    assert.deepEqual(cache.get('k1'), { kind: 'global' });
    assert.equal(cache.get('k2'), undefined);
    now = 1000;
    assert.equal(cache.get('k1'), undefined);
    cache.set('k1', { kind: 'app', appId: 3 });
    cache.clear();
    assert.equal(cache.get('k1'), undefined);
  });
});
