import assert from 'node:assert/strict';
import { RegistryAuthResolver, registryOf } from '../../../src/executor/registry-auth.js';

describe('registry credentials for pulls', () => {
  it('finds the registry host of a reference the way the engine does', () => {
    assert.equal(
      registryOf('registry2.balena-cloud.com/v2/abc@sha256:1234'),
      'registry2.balena-cloud.com',
    );
    assert.equal(registryOf('127.0.0.1:5051/bosun-test/busybox:1'), '127.0.0.1:5051');
    assert.equal(registryOf('localhost/x'), 'localhost');
    assert.equal(registryOf('library/busybox:1'), undefined);
    assert.equal(registryOf('busybox'), undefined);
  });

  it('uses d_<uuid> and the device API key on the cloud registry, configured credentials elsewhere, nothing otherwise', () => {
    let apiKey = 'key-1';
    const resolver = new RegistryAuthResolver(() => ({
      deviceUuid: 'abcdef',
      deviceApiKey: apiKey,
      cloudRegistry: 'registry2.balena-cloud.com',
      registries: { '127.0.0.1:5051': { username: 'bosun', password: 'pw' } },
    }));
    assert.deepEqual(resolver.authFor('registry2.balena-cloud.com/v2/abc'), {
      username: 'd_abcdef',
      password: 'key-1',
      serveraddress: 'registry2.balena-cloud.com',
    });
    apiKey = 'key-2'; // a rotated key applies to the next pull
    assert.equal(resolver.authFor('registry2.balena-cloud.com/v2/abc')?.password, 'key-2');
    assert.deepEqual(resolver.authFor('127.0.0.1:5051/bosun-test/busybox:1'), {
      username: 'bosun',
      password: 'pw',
      serveraddress: '127.0.0.1:5051',
    });
    assert.equal(resolver.authFor('127.0.0.1:5050/bosun-test/busybox:1'), undefined);
    assert.equal(resolver.authFor('busybox:1'), undefined);
  });
});
