/**
 * LogindHostActions runs a real process. The `busctl` it runs here is a recorder script (the point: this
 * test must never reboot the machine), which writes its argv so we can check the exact logind call.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogindHostActions } from '../../src/device/logind-host-actions.js';
import { isBosunError } from '../../src/shared/errors.js';

describe('api: logind host actions', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bosun-test-logind-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function recorder(exitCode: number): Promise<string> {
    const script = join(dir, 'busctl');
    await writeFile(
      script,
      `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/argv"\necho "denied by polkit" >&2\nexit ${exitCode}\n`,
    );
    await chmod(script, 0o755);
    return script;
  }

  it('reboot and shutdown call logind Reboot/PowerOff on the system bus, non-interactively', async () => {
    const actions = new LogindHostActions({ busctl: await recorder(0) });
    await actions.reboot();
    assert.deepEqual((await readFile(join(dir, 'argv'), 'utf8')).trim().split('\n'), [
      '--system',
      'call',
      'org.freedesktop.login1',
      '/org/freedesktop/login1',
      'org.freedesktop.login1.Manager',
      'Reboot',
      'b',
      'false',
    ]);
    await actions.shutdown();
    assert.equal((await readFile(join(dir, 'argv'), 'utf8')).split('\n')[5], 'PowerOff');
  });

  it('a refused call rejects with the D-Bus error text', async () => {
    const actions = new LogindHostActions({ busctl: await recorder(1) });
    await assert.rejects(
      actions.reboot(),
      (err: unknown) => isBosunError(err) && /denied by polkit/.test(err.message),
    );
  });
});
