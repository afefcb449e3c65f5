/**
 * Where the API port opens before the rest of the agent loads: the same rule as the full settings
 * (BOSUN_API_PORT, else config.json listenPort, else 48484), and nothing early when in doubt (the full
 * start-up then validates and says what is wrong).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { earlyListenAddress } from '../../src/config/early-listen.js';

describe('early listen address', function () {
  const dir = mkdtempSync(join(tmpdir(), 'bosun-early-'));
  const config = (text: string): Record<string, string> => {
    const path = join(dir, `config-${Math.random()}.json`);
    writeFileSync(path, text);
    return { BOSUN_CONFIG_PATH: path };
  };

  it('takes BOSUN_API_PORT and BOSUN_API_HOST first', function () {
    const env = {
      BOSUN_API_PORT: '4000',
      BOSUN_API_HOST: '127.0.0.1',
      ...config('{"listenPort":5000}'),
    };
    assert.deepEqual(earlyListenAddress(env, dir), { host: '127.0.0.1', port: 4000 });
  });

  it("then config.json's listenPort, then 48484", function () {
    assert.deepEqual(earlyListenAddress(config('{"listenPort":5000}'), dir), {
      host: '0.0.0.0',
      port: 5000,
    });
    assert.deepEqual(earlyListenAddress(config('{}'), dir), { host: '0.0.0.0', port: 48484 });
    const missing = { BOSUN_CONFIG_PATH: join(dir, 'nope.json') };
    assert.deepEqual(earlyListenAddress(missing, dir), { host: '0.0.0.0', port: 48484 });
  });

  it('opens nothing early when anything is doubtful', function () {
    assert.equal(earlyListenAddress({ BOSUN_API_PORT: 'eighty' }, dir), undefined);
    assert.equal(earlyListenAddress(config('{"listenPort":'), dir), undefined);
    assert.equal(earlyListenAddress(config('{"listenPort":"80"}'), dir), undefined);
    assert.equal(earlyListenAddress(config('{"listenPort":70000}'), dir), undefined);
    assert.equal(earlyListenAddress(config('[1]'), dir), undefined);
    assert.equal(earlyListenAddress({ BOSUN_CONFIG_PATH: dir }, dir), undefined, 'a directory');
  });
});
