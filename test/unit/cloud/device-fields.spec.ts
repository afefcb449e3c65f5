/** Device fields of the state report (reference §4.2) that are constants or read from the kernel log. */
import assert from 'node:assert/strict';
import { buildDeviceReport } from '../../../src/cloud/report-builder.js';
import { mentionsUndervoltage, undervoltageReader } from '../../../src/device/undervoltage.js';

const fields = {
  api_port: 48484,
  api_secret: 's'.repeat(32),
  os_version: 'balenaOS 6.1.0',
  os_variant: 'prod',
  supervisor_version: '0.1.0',
  ip_address: '192.0.2.1',
  mac_address: '02:00:00:00:00:01',
  name: 'pump-house',
};

describe('state report device fields', () => {
  it('os_variant, logs_channel null and is_undervolted in cloud mode; logs_channel left out in local mode', () => {
    const cloud = buildDeviceReport({ ...fields, is_undervolted: false }, {});
    assert.equal(cloud['os_variant'], 'prod');
    assert.equal(cloud['logs_channel'], null);
    assert.equal(cloud['is_undervolted'], false);
    assert.equal(cloud['status'], 'Idle');
    const local = buildDeviceReport({ ...fields, localMode: true }, {});
    assert.equal('logs_channel' in local, false);
    assert.equal('is_undervolted' in local, false, 'not reported when unknown');
  });

  it('under-voltage from the kernel log, as upstream matches it', () => {
    assert.equal(
      mentionsUndervoltage(
        '[ 3.1] usb 1-1: new device\n[ 7.9] Under-voltage detected! (0x00050005)\n',
      ),
      true,
    );
    assert.equal(mentionsUndervoltage('[ 7.9] Voltage normalised (0x00000000)\n'), false);
    assert.equal(mentionsUndervoltage(''), false);
  });

  it('reads the kernel log at most every 5 minutes', async () => {
    let now = 0;
    const reads: string[] = ['Under-voltage detected!', ''];
    let count = 0;
    const undervolted = undervoltageReader(
      () => now,
      () => Promise.resolve(reads[count++] ?? ''),
    );
    assert.equal(await undervolted(), true);
    now += 299_000;
    assert.equal(await undervolted(), true);
    assert.equal(count, 1);
    now += 1_000;
    assert.equal(await undervolted(), false);
    assert.equal(count, 2);
  });
});
