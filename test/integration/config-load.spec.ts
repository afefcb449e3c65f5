import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { loadConfiguration } from '../../src/config/load-configuration.js';
import { isBosunError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import { makeTempDir, type TempDir } from '../support/store-temp.js';

describe('loading the configuration at start-up (real files)', () => {
  let dir: TempDir;

  beforeEach(() => {
    dir = makeTempDir('bosun-test-config-load-');
  });
  afterEach(() => dir.remove());

  it('creates the data directory and config.json under BOSUN_DATA_DIR, and keeps the identity across starts', async () => {
    const env = { BOSUN_DATA_DIR: 'nested/data' };
    const first = await loadConfiguration({ env, cwd: dir.path, logger: silentLogger() });
    assert.equal(first.settings.dataDir, dir.file('nested/data'));
    assert.equal(first.settings.configPath, dir.file('nested/data/config.json'));
    assert.equal(first.settings.dbPath, dir.file('nested/data/bosun.sqlite'));
    assert.ok(statSync(first.settings.dataDir).isDirectory());
    assert.equal(first.settings.localMode, true, 'a fresh, unmanaged device is in local mode');
    const second = await loadConfiguration({ env, cwd: dir.path, logger: silentLogger() });
    assert.equal(second.configJson.value.uuid, first.configJson.value.uuid);
  });

  it('reads a managed config.json from BOSUN_CONFIG_PATH: no local mode, its listenPort', async () => {
    const path = dir.file('boot-config.json');
    writeFileSync(
      path,
      JSON.stringify({ apiEndpoint: 'https://api.example.test', listenPort: 48485 }),
    );
    const { settings, configJson } = await loadConfiguration({
      env: { BOSUN_CONFIG_PATH: path, BOSUN_DATA_DIR: dir.file('data') },
      cwd: dir.path,
      logger: silentLogger(),
    });
    assert.equal(settings.configPath, path);
    assert.equal(settings.localMode, false);
    assert.equal(settings.api.port, 48485);
    assert.equal(configJson.value.apiEndpoint, 'https://api.example.test');
    assert.match(
      (JSON.parse(readFileSync(path, 'utf8')) as { uuid: string }).uuid,
      /^[0-9a-f]{32}$/,
    );
  });

  it('rejects a bad environment variable before creating anything on disk', async () => {
    const dataDir = dir.file('data');
    await assert.rejects(
      loadConfiguration({
        env: { BOSUN_DATA_DIR: dataDir, BOSUN_API_PORT: 'eighty' },
        cwd: dir.path,
        logger: silentLogger(),
      }),
      (err) => isBosunError(err, 'CONFIG_INVALID') && err.message.includes('BOSUN_API_PORT'),
    );
    assert.equal(existsSync(dataDir), false);
  });

  it('rejects a bad log spool or log stream variable before creating anything on disk', async () => {
    const dataDir = dir.file('data');
    const spoolDir = dir.file('spool');
    for (const [variable, value] of [
      ['BOSUN_LOG_SPOOL_MAX_BYTES', '1k'],
      ['BOSUN_LOG_SPOOL_MAX_SERVICE_BYTES', '100'],
      ['BOSUN_LOG_STREAM_BATCH', '100,0'],
      ['BOSUN_LOG_STREAM_BACKOFF_MS', '1,2,3'],
    ] as const)
      await assert.rejects(
        loadConfiguration({
          env: { BOSUN_DATA_DIR: dataDir, BOSUN_LOG_SPOOL_DIR: spoolDir, [variable]: value },
          cwd: dir.path,
          logger: silentLogger(),
        }),
        (err) =>
          isBosunError(err, 'CONFIG_INVALID') &&
          err.message.includes(variable) &&
          err.details?.['variable'] === variable,
      );
    assert.equal(existsSync(dataDir), false);
    assert.equal(existsSync(spoolDir), false);
  });
});
