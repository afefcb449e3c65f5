import assert from 'node:assert/strict';
import { translateDockerError, translatePullError } from '../../../src/engine/docker-errors.js';

/** The shape docker-modem gives an HTTP error. */
function httpError(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message} `), {
    statusCode,
    json: { message },
  });
}
function socketError(code: string): Error {
  return Object.assign(new Error(`connect ${code} /var/run/docker.sock`), { code });
}

describe('engine error translation', function () {
  const cases: Array<[string, Error, string]> = [
    ['404', httpError(404, 'No such container: web'), 'NOT_FOUND'],
    [
      '404 no address pool (the engine is full, nothing is missing)',
      httpError(
        404,
        'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network',
      ),
      'ENGINE_NO_ADDRESS_POOL',
    ],
    ['409', httpError(409, 'name in use'), 'CONFLICT'],
    ['403 network in use', httpError(403, 'network n id 1 has active endpoints'), 'CONFLICT'],
    [
      '403 endpoint exists',
      httpError(403, 'endpoint with name web already exists in network n'),
      'CONFLICT',
    ],
    [
      '403 other',
      httpError(403, 'bridge is a pre-defined network and cannot be removed'),
      'ENGINE_ERROR',
    ],
    ['500 not connected', httpError(500, 'container c is not connected to network n'), 'NOT_FOUND'],
    ['500', httpError(500, 'driver failed'), 'ENGINE_ERROR'],
    ['ECONNREFUSED', socketError('ECONNREFUSED'), 'ENGINE_UNREACHABLE'],
    ['ENOENT', socketError('ENOENT'), 'ENGINE_UNREACHABLE'],
    [
      'abort',
      Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }),
      'CANCELLED',
    ],
  ];
  for (const [name, err, code] of cases) {
    it(`${name} → ${code}, keeping the cause and naming the operation`, function () {
      const translated = translateDockerError(err, 'remove container web');
      assert.equal(translated.code, code);
      assert.equal(translated.cause, err);
      assert.ok(translated.message.startsWith('remove container web: '), translated.message);
    });
  }

  it('tells registry auth refusals from other pull failures', function () {
    assert.equal(
      translatePullError(httpError(500, 'unauthorized: authentication required'), 'r/a:1').code,
      'REGISTRY_AUTH',
    );
    assert.equal(
      translatePullError(
        new Error('Head "http://r/v2/a/manifests/1": no basic auth credentials'),
        'r/a:1',
      ).code,
      'REGISTRY_AUTH',
    );
    assert.equal(
      translatePullError(httpError(404, 'manifest for r/a:1 not found: manifest unknown'), 'r/a:1')
        .code,
      'IMAGE_PULL_FAILED',
    );
    assert.equal(
      translatePullError(socketError('ECONNREFUSED'), 'r/a:1').code,
      'ENGINE_UNREACHABLE',
    );
    const streamed = translatePullError(
      new Error('(HTTP code 500) server error - dial tcp: connection refused '),
      'r/a:1',
    );
    assert.equal(streamed.code, 'IMAGE_PULL_FAILED');
    assert.equal(
      streamed.message,
      'pull r/a:1: dial tcp: connection refused',
      'the modem prefix is stripped',
    );
  });
});
