import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import {
  DEFAULT_SUPERVISOR_CONFIG,
  resolveConfigVars,
  resolveConfigVarsAndWarn,
  updateWindowOf,
} from '../../src/config/config-vars.js';
import { createLogger } from '../../src/shared/logger.js';

describe('supervisor config vars', () => {
  it('has the reference defaults when the target sets nothing', () => {
    assert.deepEqual(DEFAULT_SUPERVISOR_CONFIG, {
      appUpdatePollInterval: 900000,
      instantUpdates: true,
      localMode: false,
      connectivityCheckEnabled: true,
      loggingEnabled: true,
      apiRequestTimeout: 59000,
      delta: false,
      deltaRequestTimeout: 59000,
      deltaApplyTimeout: 0,
      deltaRetryCount: 30,
      deltaRetryInterval: 10000,
      deltaVersion: 2,
      lockOverride: false,
      persistentLogging: false,
      hardwareMetrics: true,
      firewallMode: 'off',
      hostDiscoverability: true,
      vpnControl: true,
      diskReserveBytes: 256 * 2 ** 20,
      updateRollback: true,
      updateRollbackWindow: 300_000,
      updateWindow: null,
      updateWindowTimeZone: null,
    });
  });

  it('reads an update window and its zone, and falls back to none on a typo', () => {
    const { config, warnings } = resolveConfigVars({
      BALENA_SUPERVISOR_UPDATE_WINDOW: '02:00-04:00,22:30-01:00',
      BALENA_SUPERVISOR_UPDATE_WINDOW_TIMEZONE: 'Europe/Berlin',
    });
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.updateWindow, [
      { start: 120, end: 240 },
      { start: 1350, end: 60 },
    ]);
    assert.deepEqual(updateWindowOf(config, 'UTC'), {
      ranges: config.updateWindow,
      timeZone: 'Europe/Berlin',
    });
    const bad = resolveConfigVars({
      BALENA_SUPERVISOR_UPDATE_WINDOW: '2am-4am',
      BALENA_SUPERVISOR_UPDATE_WINDOW_TIMEZONE: 'Mars/Base',
    });
    assert.equal(bad.config.updateWindow, null);
    assert.equal(bad.config.updateWindowTimeZone, null);
    assert.deepEqual(
      bad.warnings.map((w) => w.variable),
      ['BALENA_SUPERVISOR_UPDATE_WINDOW', 'BALENA_SUPERVISOR_UPDATE_WINDOW_TIMEZONE'],
    );
    assert.equal(updateWindowOf(bad.config, 'UTC'), undefined, 'no window: any time');
    const deviceZone = resolveConfigVars({ SUPERVISOR_UPDATE_WINDOW: '01:00-02:00' }).config;
    assert.equal(updateWindowOf(deviceZone, 'Asia/Tokyo')?.timeZone, 'Asia/Tokyo');
  });

  it('SUPERVISOR_DISK_RESERVE takes a size with an optional unit (MiB without one)', () => {
    const reserve = (value: string): number =>
      resolveConfigVars({ SUPERVISOR_DISK_RESERVE: value }).config.diskReserveBytes;
    assert.equal(reserve('64'), 64 * 2 ** 20);
    assert.equal(reserve('512M'), 512 * 2 ** 20);
    assert.equal(reserve('1GiB'), 2 ** 30);
    assert.equal(reserve('1 GB'), 1e9);
    assert.equal(reserve('300000000B'), 300_000_000);
    assert.equal(reserve('0'), 0);
    for (const bad of ['-1', '1.5G', '12 parsecs', 'lots', '99999999999999999G']) {
      const { config, warnings } = resolveConfigVars({ SUPERVISOR_DISK_RESERVE: bad });
      assert.equal(config.diskReserveBytes, 256 * 2 ** 20, bad);
      assert.equal(warnings[0]?.variable, 'SUPERVISOR_DISK_RESERVE', bad);
    }
  });

  it('BALENA_ beats RESIN_ beats the unprefixed name', () => {
    const all = {
      SUPERVISOR_POLL_INTERVAL: '20000',
      RESIN_SUPERVISOR_POLL_INTERVAL: '30000',
      BALENA_SUPERVISOR_POLL_INTERVAL: '40000',
    };
    assert.equal(resolveConfigVars(all).config.appUpdatePollInterval, 40000);
    const { BALENA_SUPERVISOR_POLL_INTERVAL: _b, ...noBalena } = all;
    assert.equal(resolveConfigVars(noBalena).config.appUpdatePollInterval, 30000);
    assert.equal(
      resolveConfigVars({ SUPERVISOR_POLL_INTERVAL: '20000' }).config.appUpdatePollInterval,
      20000,
    );
  });

  it('parses every type: booleans in their usual spellings, integers, enums', () => {
    const { config, warnings } = resolveConfigVars({
      BALENA_SUPERVISOR_LOCAL_MODE: '1',
      BALENA_SUPERVISOR_INSTANT_UPDATE_TRIGGER: 'off',
      RESIN_SUPERVISOR_DELTA: 'TRUE',
      BALENA_SUPERVISOR_HARDWARE_METRICS: 'false',
      BALENA_SUPERVISOR_DELTA_VERSION: '3',
      BALENA_SUPERVISOR_DELTA_RETRY_COUNT: '0',
      BALENA_HOST_FIREWALL_MODE: 'auto',
      HOST_DISCOVERABILITY: 'on',
      BALENA_SUPERVISOR_VPN_CONTROL: '0',
      BALENA_SUPERVISOR_API_REQUEST_TIMEOUT: ' 1234 ',
    });
    assert.deepEqual(warnings, []);
    assert.equal(config.localMode, true);
    assert.equal(config.instantUpdates, false);
    assert.equal(config.delta, true);
    assert.equal(config.hardwareMetrics, false);
    assert.equal(config.deltaVersion, 3);
    assert.equal(config.deltaRetryCount, 0);
    assert.equal(config.firewallMode, 'auto');
    assert.equal(config.hostDiscoverability, true);
    assert.equal(config.vpnControl, false);
    assert.equal(config.apiRequestTimeout, 1234);
  });

  it('falls back to the default with a warning naming the var and the value', () => {
    const { config, warnings } = resolveConfigVars({
      RESIN_SUPERVISOR_POLL_INTERVAL: '10s',
      BALENA_SUPERVISOR_LOCAL_MODE: 'maybe',
      BALENA_HOST_FIREWALL_MODE: 'sometimes',
      BALENA_SUPERVISOR_DELTA_VERSION: '4',
      BALENA_SUPERVISOR_DELTA_RETRY_INTERVAL: '-5',
      BALENA_SUPERVISOR_API_REQUEST_TIMEOUT: '99999999999999999999',
    });
    assert.equal(config.appUpdatePollInterval, 900000);
    assert.equal(config.localMode, false);
    assert.equal(config.firewallMode, 'off');
    assert.equal(config.deltaVersion, 2);
    assert.equal(config.deltaRetryInterval, 10000);
    assert.equal(config.apiRequestTimeout, 59000);
    assert.deepEqual(
      warnings.map((w) => [w.variable, w.value, w.fallback]),
      [
        ['RESIN_SUPERVISOR_POLL_INTERVAL', '10s', '900000'],
        ['BALENA_SUPERVISOR_LOCAL_MODE', 'maybe', 'false'],
        ['BALENA_SUPERVISOR_API_REQUEST_TIMEOUT', '99999999999999999999', '59000'],
        ['BALENA_SUPERVISOR_DELTA_RETRY_INTERVAL', '-5', '10000'],
        ['BALENA_SUPERVISOR_DELTA_VERSION', '4', '2'],
        ['BALENA_HOST_FIREWALL_MODE', 'sometimes', 'off'],
      ],
    );
  });

  it('an invalid winning spelling means the default, not a lower-precedence spelling', () => {
    const { config, warnings } = resolveConfigVars({
      BALENA_SUPERVISOR_POLL_INTERVAL: 'soon',
      RESIN_SUPERVISOR_POLL_INTERVAL: '60000',
    });
    assert.equal(config.appUpdatePollInterval, 900000);
    assert.equal(warnings.length, 1);
  });

  it('refuses a poll interval under 10 s (it would make the poll and its backoffs spin)', () => {
    const { config, warnings } = resolveConfigVars({ BALENA_SUPERVISOR_POLL_INTERVAL: '0' });
    assert.equal(config.appUpdatePollInterval, 900000);
    assert.equal(warnings[0]?.variable, 'BALENA_SUPERVISOR_POLL_INTERVAL');
  });

  it('treats an empty value as unset, without a warning', () => {
    const { config, warnings } = resolveConfigVars({
      BALENA_SUPERVISOR_DELTA_APPLY_TIMEOUT: '',
      RESIN_SUPERVISOR_DELTA_APPLY_TIMEOUT: '5000',
    });
    assert.equal(config.deltaApplyTimeout, 5000);
    assert.deepEqual(warnings, []);
  });

  it('honours the legacy OVERRIDE_LOCK after SUPERVISOR_OVERRIDE_LOCK', () => {
    assert.equal(resolveConfigVars({ RESIN_OVERRIDE_LOCK: '1' }).config.lockOverride, true);
    assert.equal(
      resolveConfigVars({ OVERRIDE_LOCK: '1', SUPERVISOR_OVERRIDE_LOCK: '0' }).config.lockOverride,
      false,
    );
  });

  it('is immutable', () => {
    const { config } = resolveConfigVars({});
    assert.throws(() => {
      (config as { localMode: boolean }).localMode = true;
    }, TypeError);
  });

  it('never throws and always yields well-typed values, whatever the target holds', () => {
    const names = [
      'SUPERVISOR_POLL_INTERVAL',
      'SUPERVISOR_LOCAL_MODE',
      'HOST_FIREWALL_MODE',
      'SUPERVISOR_DELTA_VERSION',
    ];
    const key = fc
      .tuple(fc.constantFrom('BALENA_', 'RESIN_', ''), fc.constantFrom(...names))
      .map(([p, n]) => p + n);
    fc.assert(
      fc.property(fc.dictionary(key, fc.string()), (vars) => {
        const { config, warnings } = resolveConfigVars(vars);
        assert.ok(
          Number.isSafeInteger(config.appUpdatePollInterval) &&
            config.appUpdatePollInterval >= 10000,
        );
        assert.equal(typeof config.localMode, 'boolean');
        assert.ok(['on', 'off', 'auto'].includes(config.firewallMode));
        assert.ok(config.deltaVersion === 2 || config.deltaVersion === 3);
        assert.ok(warnings.length <= names.length);
      }),
    );
  });

  it('resolveConfigVarsAndWarn logs one config-var.invalid warning per fallback', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        cb();
      },
    });
    const logger = createLogger({ destination, level: 'warn' });
    const config = resolveConfigVarsAndWarn({ BALENA_SUPERVISOR_LOCAL_MODE: 'maybe' }, logger);
    assert.equal(config.localMode, false);
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.['event'], 'config-var.invalid');
    assert.equal(entries[0]?.['variable'], 'BALENA_SUPERVISOR_LOCAL_MODE');
    assert.equal(entries[0]?.['value'], 'maybe');
  });
});
