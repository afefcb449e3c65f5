import assert from 'node:assert/strict';
import { parseContainerIdentity } from '../../../src/domain/container-identity.js';

const labels = {
  'io.balena.supervised': 'true',
  'io.balena.app-id': '1011165',
  'io.balena.app-uuid': 'd149c5d1',
  'io.balena.service-id': '29396',
  'io.balena.service-name': 'api',
};

describe('domain: container identity (reference §6.1)', () => {
  it('reads app and service from labels, image/release/commit from the name', () => {
    assert.deepEqual(parseContainerIdentity('/api_959262_557631_217d5523', labels), {
      ours: true,
      identity: {
        appId: 1011165,
        appUuid: 'd149c5d1',
        serviceName: 'api',
        serviceId: 29396,
        imageId: 959262,
        releaseId: 557631,
        commit: '217d5523',
        handoverOld: false,
      },
    });
  });

  it('recognises the outgoing container of a hand-over', () => {
    const r = parseContainerIdentity('old_api_1_2_c0ffee', labels);
    assert.ok(r.ours);
    assert.equal(r.identity.handoverOld, true);
    assert.equal(r.identity.commit, 'c0ffee');
  });

  it('accepts legacy io.resin.* labels, names without a commit, and no app uuid', () => {
    const legacy = {
      'io.resin.supervised': 'true',
      'io.resin.app-id': '7',
      'io.resin.service-id': '3',
      'io.resin.service-name': 'main',
    };
    const r = parseContainerIdentity('main_10_20', legacy);
    assert.deepEqual(r, {
      ours: true,
      identity: {
        appId: 7,
        appUuid: undefined,
        serviceName: 'main',
        serviceId: 3,
        imageId: 10,
        releaseId: 20,
        commit: undefined,
        handoverOld: false,
      },
    });
  });

  it('handles service names that themselves look like ids', () => {
    const r = parseContainerIdentity('web_1_2_3_4_abc', {
      ...labels,
      'io.balena.service-name': 'web_1_2',
    });
    assert.ok(r.ours);
    assert.deepEqual([r.identity.imageId, r.identity.releaseId, r.identity.commit], [3, 4, 'abc']);
  });

  it('says why a container is not ours', () => {
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      [
        'api_1_2_c',
        { ...labels, 'io.balena.supervised': undefined as unknown as string },
        /supervised/,
      ],
      ['api_1_2_c', { ...labels, 'io.balena.app-id': 'x' }, /app-id/],
      ['api_1_2_c', { ...labels, 'io.balena.service-id': '' }, /service-id/],
      ['api_1_2_c', { ...labels, 'io.balena.service-name': '' }, /service-name/],
      ['my-container', labels, /is not <service>_<imageId>_<releaseId>_<commit>/],
    ];
    for (const [name, l, reason] of cases) {
      const clean = Object.fromEntries(Object.entries(l).filter(([, v]) => v !== undefined));
      const r = parseContainerIdentity(name, clean);
      assert.equal(r.ours, false, name);
      if (!r.ours) assert.match(r.reason, reason);
    }
  });
});
