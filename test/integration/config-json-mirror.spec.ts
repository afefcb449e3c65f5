/**
 * Config vars whose home is config.json (SUPERVISOR_POLL_INTERVAL → appUpdatePollInterval,
 * SUPERVISOR_PERSISTENT_LOGGING → persistentLogging) written there through the real ConfigJsonFile:
 * atomically, unknown keys kept, nothing written when nothing changes.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { ConfigJsonFile } from '../../src/config/config-json-file.js';
import { mirrorConfigVarsToConfigJson } from '../../src/config/config-json-mirror.js';
import { resolveConfigVars } from '../../src/config/config-vars.js';
import { silentLogger } from '../../src/shared/logger.js';
import { makeTempDir, type TempDir } from '../support/store-temp.js';

describe('config vars mirrored into config.json (real file)', () => {
  let dir: TempDir;
  let path: string;
  const original = {
    apiEndpoint: 'https://api.example.test',
    uuid: 'a'.repeat(32),
    deviceApiKey: 'b'.repeat(32),
    // Keys bosun does not know: kept as they are.
    vendorThing: { nested: [1, 2, 3], flag: true },
    os: { sshKeys: ['ssh-ed25519 AAAA test'] },
  };

  beforeEach(() => {
    dir = makeTempDir('bosun-test-mirror-');
    path = dir.file('config.json');
    writeFileSync(path, JSON.stringify(original));
  });
  afterEach(() => dir.remove());

  const onDisk = (): Record<string, unknown> =>
    JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

  it('writes the poll interval and persistent logging a target sets, keeping every other key', async () => {
    const file = await ConfigJsonFile.open(path, silentLogger());
    const config = resolveConfigVars({
      RESIN_SUPERVISOR_POLL_INTERVAL: '600000',
      BALENA_SUPERVISOR_PERSISTENT_LOGGING: 'true',
    }).config;
    const written = await mirrorConfigVarsToConfigJson(file, config, silentLogger());
    assert.deepEqual(written.sort(), ['appUpdatePollInterval', 'persistentLogging']);
    assert.deepEqual(onDisk(), {
      ...original,
      appUpdatePollInterval: 600_000,
      persistentLogging: true,
    });
    // Atomic: no temp file left beside it.
    assert.deepEqual(readdirSync(dir.path), ['config.json']);
    // The same config again: no write at all.
    const before = statSync(path).mtimeMs;
    assert.deepEqual(await mirrorConfigVarsToConfigJson(file, config, silentLogger()), []);
    assert.equal(statSync(path).mtimeMs, before);
  });

  it('a target without them means their defaults; an absent field already means the default', async () => {
    const file = await ConfigJsonFile.open(path, silentLogger());
    const defaults = resolveConfigVars({}).config;
    assert.deepEqual(await mirrorConfigVarsToConfigJson(file, defaults, silentLogger()), []);
    assert.deepEqual(onDisk(), original);
    await mirrorConfigVarsToConfigJson(
      file,
      resolveConfigVars({ SUPERVISOR_POLL_INTERVAL: '1200000' }).config,
      silentLogger(),
    );
    assert.equal(onDisk()['appUpdatePollInterval'], 1_200_000);
    await mirrorConfigVarsToConfigJson(file, defaults, silentLogger());
    assert.deepEqual(onDisk(), { ...original, appUpdatePollInterval: 900_000 });
  });
});
