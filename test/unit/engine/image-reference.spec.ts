import assert from 'node:assert/strict';
import { splitReference, withDefaultTag } from '../../../src/engine/image-reference.js';

describe('image references', function () {
  it('names :latest only when no tag or digest is given (a registry port is not a tag)', function () {
    assert.equal(withDefaultTag('busybox'), 'busybox:latest');
    assert.equal(withDefaultTag('127.0.0.1:5050/app'), '127.0.0.1:5050/app:latest');
    assert.equal(withDefaultTag('127.0.0.1:5050/app:1'), '127.0.0.1:5050/app:1');
    assert.equal(withDefaultTag('r/app@sha256:abc'), 'r/app@sha256:abc');
  });

  it('splits repository, tag and digest', function () {
    assert.deepEqual(splitReference('127.0.0.1:5050/app:1'), {
      repository: '127.0.0.1:5050/app',
      tag: '1',
      digest: undefined,
    });
    assert.deepEqual(splitReference('r/app@sha256:abc'), {
      repository: 'r/app',
      tag: undefined,
      digest: 'sha256:abc',
    });
    assert.deepEqual(splitReference('app'), {
      repository: 'app',
      tag: undefined,
      digest: undefined,
    });
  });
});
