import assert from 'node:assert/strict';
import {
  readEnvSettings,
  resolveAgentSettings,
  type AgentSettings,
  type Env,
} from '../../src/config/agent-settings.js';
import type { ConfigJson } from '../../src/config/config-json-schema.js';
import { isBosunError } from '../../src/shared/errors.js';

const CWD = '/srv/bosun';

function settings(env: Env, configJson: ConfigJson = {}): AgentSettings {
  return resolveAgentSettings(readEnvSettings(env, CWD), configJson);
}

function rejectsVariable(env: Env, variable: string): void {
  assert.throws(
    () => readEnvSettings(env, CWD),
    (err) => {
      assert.ok(isBosunError(err, 'CONFIG_INVALID'), String(err));
      assert.ok(err.message.includes(variable), err.message);
      assert.equal(err.details?.['variable'], variable);
      return true;
    },
  );
}

describe('agent settings', () => {
  it('has documented defaults: data under ./.data, API on 0.0.0.0:48484, local mode when unmanaged', () => {
    assert.deepEqual(settings({}), {
      dataDir: '/srv/bosun/.data',
      configPath: '/srv/bosun/.data/config.json',
      dbPath: '/srv/bosun/.data/bosun.sqlite',
      api: { host: '0.0.0.0', port: 48484 },
      engineSocket: '/var/run/docker.sock',
      localMode: true,
      logLevel: 'info',
      lockRoot: '/tmp/balena-supervisor',
      scopeLabels: [],
      mdnsInterfaces: undefined,
      cloudPollJitterMs: 60_000,
      engineRequestTimeoutMs: 120_000,
      maxLogReaders: 32,
      engineDataRoot: undefined,
      logs: {
        spoolDir: undefined,
        spoolMaxBytes: undefined,
        spoolMaxServiceBytes: undefined,
        streamBatch: [],
        streamBackoffMs: [],
      },
    });
  });

  it('reads where the engine data root is visible (BOSUN_ENGINE_DATA_ROOT), relative to the working directory', () => {
    assert.equal(
      settings({ BOSUN_ENGINE_DATA_ROOT: '/mnt/root/var/lib/docker' }).engineDataRoot,
      '/mnt/root/var/lib/docker',
    );
    assert.equal(
      settings({ BOSUN_ENGINE_DATA_ROOT: 'engine' }).engineDataRoot,
      '/srv/bosun/engine',
    );
    rejectsVariable({ BOSUN_ENGINE_DATA_ROOT: ' /x' }, 'BOSUN_ENGINE_DATA_ROOT');
  });

  it('reads the log spool and stream variables (defaults are left to the log spool), refusing nonsense', () => {
    assert.deepEqual(
      settings({
        BOSUN_LOG_SPOOL_DIR: 'spool',
        BOSUN_LOG_SPOOL_MAX_BYTES: '1048576',
        BOSUN_LOG_SPOOL_MAX_SERVICE_BYTES: '65536',
        BOSUN_LOG_STREAM_BATCH: '2000, 1048576',
        BOSUN_LOG_STREAM_BACKOFF_MS: '100,1000',
      }).logs,
      {
        spoolDir: '/srv/bosun/spool',
        spoolMaxBytes: 1_048_576,
        spoolMaxServiceBytes: 65_536,
        streamBatch: [2000, 1_048_576],
        streamBackoffMs: [100, 1000],
      },
    );
    for (const value of ['65535', '32M', '-1', '1e9'])
      rejectsVariable({ BOSUN_LOG_SPOOL_MAX_BYTES: value }, 'BOSUN_LOG_SPOOL_MAX_BYTES');
    rejectsVariable(
      { BOSUN_LOG_SPOOL_MAX_SERVICE_BYTES: 'x' },
      'BOSUN_LOG_SPOOL_MAX_SERVICE_BYTES',
    );
    rejectsVariable({ BOSUN_LOG_SPOOL_DIR: ' /x' }, 'BOSUN_LOG_SPOOL_DIR');
    for (const value of ['1,2,3,4', '0', 'a,b', '5,,6'])
      rejectsVariable({ BOSUN_LOG_STREAM_BATCH: value }, 'BOSUN_LOG_STREAM_BATCH');
    rejectsVariable({ BOSUN_LOG_STREAM_BACKOFF_MS: '1,2,3' }, 'BOSUN_LOG_STREAM_BACKOFF_MS');
  });

  it('bounds log readers by BOSUN_MAX_LOG_READERS (default 32), refusing nonsense', () => {
    assert.equal(settings({ BOSUN_MAX_LOG_READERS: '5' }).maxLogReaders, 5);
    rejectsVariable({ BOSUN_MAX_LOG_READERS: '0' }, 'BOSUN_MAX_LOG_READERS');
    rejectsVariable({ BOSUN_MAX_LOG_READERS: 'many' }, 'BOSUN_MAX_LOG_READERS');
  });

  it('reads the lock root, scope labels and mDNS interfaces, and refuses a lock root that is not absolute', () => {
    const s = settings({
      BOSUN_LOCK_ROOT: '/run/bosun-locks/',
      BOSUN_SCOPE_LABELS: 'io.bosun.test.owner=abc,io.balena.supervised',
      BOSUN_MDNS_INTERFACES: 'eth0,wlan0',
    });
    assert.equal(s.lockRoot, '/run/bosun-locks');
    assert.deepEqual(s.scopeLabels, ['io.bosun.test.owner=abc', 'io.balena.supervised']);
    assert.deepEqual(s.mdnsInterfaces, ['eth0', 'wlan0']);
    assert.deepEqual(settings({ BOSUN_MDNS_INTERFACES: 'all' }).mdnsInterfaces, []);
    // Empty means unset, as for every variable: the default, never '' as a bind-mount source.
    assert.equal(settings({ BOSUN_LOCK_ROOT: '' }).lockRoot, '/tmp/balena-supervisor');
    for (const bad of ['locks', './locks', '/tmp/../etc', '/tmp/a:b', '/'])
      rejectsVariable({ BOSUN_LOCK_ROOT: bad }, 'BOSUN_LOCK_ROOT');
    rejectsVariable({ BOSUN_SCOPE_LABELS: 'a=b,,c' }, 'BOSUN_SCOPE_LABELS');
    rejectsVariable({ BOSUN_MDNS_INTERFACES: 'eth0;rm -rf' }, 'BOSUN_MDNS_INTERFACES');
  });

  it('BOSUN_CLOUD_POLL_JITTER_MS: whole milliseconds, a typo is an error naming the variable', () => {
    assert.equal(settings({ BOSUN_CLOUD_POLL_JITTER_MS: '1000' }).cloudPollJitterMs, 1000);
    assert.throws(
      () => settings({ BOSUN_CLOUD_POLL_JITTER_MS: '10s' }),
      /BOSUN_CLOUD_POLL_JITTER_MS='10s'/,
    );
  });

  it('bounds short engine requests by BOSUN_ENGINE_REQUEST_TIMEOUT_MS (default two minutes)', () => {
    assert.equal(
      settings({ BOSUN_ENGINE_REQUEST_TIMEOUT_MS: '5000' }).engineRequestTimeoutMs,
      5000,
    );
    for (const value of ['0', '-1', 'soon', '1.5', '3600001'])
      rejectsVariable(
        { BOSUN_ENGINE_REQUEST_TIMEOUT_MS: value },
        'BOSUN_ENGINE_REQUEST_TIMEOUT_MS',
      );
  });

  it('resolves relative paths against the working directory, and each path can be moved on its own', () => {
    const s = settings({ BOSUN_DATA_DIR: 'var/data', BOSUN_DB_PATH: '/tmp/x.sqlite' });
    assert.equal(s.dataDir, '/srv/bosun/var/data');
    assert.equal(s.configPath, '/srv/bosun/var/data/config.json');
    assert.equal(s.dbPath, '/tmp/x.sqlite');
    assert.equal(
      settings({ BOSUN_CONFIG_PATH: '/mnt/boot/config.json' }).configPath,
      '/mnt/boot/config.json',
    );
  });

  it('takes the port from BOSUN_API_PORT, else config.json listenPort, else 48484', () => {
    assert.equal(settings({}, { listenPort: 50000 }).api.port, 50000);
    assert.equal(settings({ BOSUN_API_PORT: '40000' }, { listenPort: 50000 }).api.port, 40000);
    assert.equal(settings({ BOSUN_API_PORT: '0' }).api.port, 0);
    assert.equal(settings({ BOSUN_API_HOST: '127.0.0.1' }).api.host, '127.0.0.1');
  });

  it('is in local mode when unmanaged, not when config.json has an apiEndpoint, and the env var overrides both', () => {
    assert.equal(settings({}, { apiEndpoint: 'https://api.example.test' }).localMode, false);
    assert.equal(settings({}, { apiEndpoint: '' }).localMode, true);
    assert.equal(
      settings({ BOSUN_LOCAL_MODE: 'true' }, { apiEndpoint: 'https://api.example.test' }).localMode,
      true,
    );
    assert.equal(settings({ BOSUN_LOCAL_MODE: '0' }).localMode, false);
  });

  it('finds the engine socket in BOSUN_ENGINE_SOCKET, else DOCKER_HOST=unix://…', () => {
    assert.equal(
      settings({ DOCKER_HOST: 'unix:///run/balena-engine.sock' }).engineSocket,
      '/run/balena-engine.sock',
    );
    assert.equal(
      settings({
        DOCKER_HOST: 'unix:///run/balena-engine.sock',
        BOSUN_ENGINE_SOCKET: '/run/docker.sock',
      }).engineSocket,
      '/run/docker.sock',
    );
  });

  it('treats an empty variable as unset', () => {
    assert.deepEqual(
      settings({ BOSUN_API_PORT: '', BOSUN_LOG_LEVEL: '', DOCKER_HOST: '' }),
      settings({}),
    );
  });

  it('refuses bad values with CONFIG_INVALID naming the variable', () => {
    for (const port of ['abc', '70000', '-1', '80.5', '0x50'])
      rejectsVariable({ BOSUN_API_PORT: port }, 'BOSUN_API_PORT');
    rejectsVariable({ BOSUN_LOCAL_MODE: 'sometimes' }, 'BOSUN_LOCAL_MODE');
    rejectsVariable({ BOSUN_LOG_LEVEL: 'loud' }, 'BOSUN_LOG_LEVEL');
    rejectsVariable({ DOCKER_HOST: 'tcp://10.0.0.1:2375' }, 'DOCKER_HOST');
    rejectsVariable({ DOCKER_HOST: 'unix://relative.sock' }, 'DOCKER_HOST');
    rejectsVariable({ BOSUN_API_HOST: 'two words' }, 'BOSUN_API_HOST');
    rejectsVariable({ BOSUN_DATA_DIR: ' /data' }, 'BOSUN_DATA_DIR');
  });

  it('accepts every log level pino knows', () => {
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) {
      assert.equal(settings({ BOSUN_LOG_LEVEL: level.toUpperCase() }).logLevel, level);
    }
  });

  it('is immutable', () => {
    const s = settings({});
    assert.throws(() => {
      (s.api as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => {
      (s as { localMode: boolean }).localMode = false;
    }, TypeError);
  });
});
