/** Which device config vars the initial config report (reference §2.3 step 3) creates in the cloud. */
import assert from 'node:assert/strict';
import { varsToReport } from '../../../src/cloud/initial-config-report.js';
import {
  CONFIG_VAR_SPECS,
  DEFAULT_SUPERVISOR_CONFIG,
  resolveConfigVars,
} from '../../../src/config/config-vars.js';
import { deviceConfigVarValues } from '../../../src/config/config-json-mirror.js';

describe('initial config report: what is reported', () => {
  const defaults = deviceConfigVarValues({}, DEFAULT_SUPERVISOR_CONFIG);

  it('a fresh device with a default config.json reports nothing', () => {
    assert.deepEqual(varsToReport(defaults, defaults, {}), {});
  });

  it('config.json values that differ from the defaults, unless the target sets them under any prefix', () => {
    const current = deviceConfigVarValues(
      { appUpdatePollInterval: 1_200_000, persistentLogging: true },
      DEFAULT_SUPERVISOR_CONFIG,
    );
    assert.deepEqual(varsToReport(current, defaults, {}), {
      SUPERVISOR_POLL_INTERVAL: '1200000',
      SUPERVISOR_PERSISTENT_LOGGING: 'true',
    });
    assert.deepEqual(
      varsToReport(current, defaults, { BALENA_SUPERVISOR_POLL_INTERVAL: '600000' }),
      { SUPERVISOR_PERSISTENT_LOGGING: 'true' },
    );
    assert.deepEqual(
      varsToReport(current, defaults, {
        RESIN_SUPERVISOR_POLL_INTERVAL: '600000',
        SUPERVISOR_PERSISTENT_LOGGING: 'false',
      }),
      {},
    );
  });

  it('never reports local mode on, nor VPN control off (forced to their defaults, as upstream)', () => {
    const current = deviceConfigVarValues(
      {},
      resolveConfigVars({
        SUPERVISOR_LOCAL_MODE: '1',
        SUPERVISOR_VPN_CONTROL: 'false',
        SUPERVISOR_DELTA: 'true',
      }).config,
    );
    assert.deepEqual(varsToReport(current, defaults, {}), { SUPERVISOR_DELTA: 'true' });
  });

  it('names every known var (one entry per spec)', () => {
    assert.equal(Object.keys(defaults).length, Object.keys(CONFIG_VAR_SPECS).length);
    assert.equal(defaults['SUPERVISOR_POLL_INTERVAL'], '900000');
  });
});
