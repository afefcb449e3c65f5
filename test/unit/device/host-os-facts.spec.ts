/**
 * Device information from the host's files, on real temporary files: device-type.json (boot partition)
 * and os-release, each present, missing and broken in the ways a hostile or damaged host can break
 * them. A broken file never throws: the caller gets a reason and falls back.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  osVariant,
  readDeviceTypeFile,
  readOsRelease,
  resolveDeviceType,
} from '../../../src/device/host-os-facts.js';
import { DeviceIdentity } from '../../../src/device/identity.js';
import { loadDeviceIdentity } from '../../../src/device/load-identity.js';
import { silentLogger } from '../../../src/shared/logger.js';

const BALENA_OS_RELEASE = [
  'ID="balena-os"',
  'NAME="balenaOS"',
  'VERSION="6.1.0"',
  'PRETTY_NAME="balenaOS 6.1.0"',
  'VARIANT_ID="dev"',
  'BALENA_BOARD_REV="a1b2c3d"',
  '',
].join('\n');

describe('host OS facts: device-type.json and os-release', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bosun-test-hostos-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const file = async (name: string, content: string): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, content);
    return path;
  };

  describe('device-type.json', () => {
    it('reads slug and arch as balenaOS writes them (other fields ignored)', async () => {
      const path = await file(
        'device-type.json',
        JSON.stringify({
          slug: 'raspberrypi4-64',
          arch: 'aarch64',
          name: 'Raspberry Pi 4',
          yocto: {},
        }),
      );
      assert.deepEqual(await readDeviceTypeFile(path), {
        kind: 'found',
        facts: { slug: 'raspberrypi4-64', arch: 'aarch64' },
      });
    });

    it('a missing file is "missing", not an error', async () => {
      assert.deepEqual(await readDeviceTypeFile(join(dir, 'nope.json')), { kind: 'missing' });
    });

    const broken: Array<[string, string, RegExp]> = [
      ['truncated JSON', '{"slug": "raspberrypi4-64", "ar', /not JSON/],
      ['an array', '["raspberrypi4-64"]', /not a JSON object/],
      ['no slug', '{"arch":"aarch64"}', /"slug"/],
      ['a slug with a newline', '{"slug":"rpi\\nX","arch":"aarch64"}', /"slug"/],
      ['an unknown arch', '{"slug":"x","arch":"sparc"}', /"arch" is not one of/],
      ['a numeric arch', '{"slug":"x","arch":64}', /"arch"/],
      ['binary garbage', '\u0000\u0001\u00ff', /not JSON/],
    ];
    for (const [what, content, reason] of broken)
      it(`${what} is invalid with a reason`, async () => {
        const read = await readDeviceTypeFile(await file('device-type.json', content));
        assert.equal(read.kind, 'invalid');
        assert.match(read.kind === 'invalid' ? read.reason : '', reason);
      });

    it('refuses a symlink, a directory, a FIFO (without blocking) and an oversized file', async () => {
      const target = await file('elsewhere.json', '{"slug":"x","arch":"amd64"}');
      await symlink(target, join(dir, 'link.json'));
      await mkdir(join(dir, 'dir.json'));
      execFileSync('mkfifo', [join(dir, 'fifo.json')]);
      const big = await file(
        'big.json',
        `{"slug":"x","arch":"amd64","pad":"${'x'.repeat(70_000)}"}`,
      );
      const reasons = await Promise.all(
        [join(dir, 'link.json'), join(dir, 'dir.json'), join(dir, 'fifo.json'), big].map(
          async (p) => {
            const read = await readDeviceTypeFile(p);
            return read.kind === 'invalid' ? read.reason : read.kind;
          },
        ),
      );
      assert.match(reasons[0]!, /symbolic link/);
      assert.match(reasons[1]!, /not a regular file/);
      assert.match(reasons[2]!, /not a regular file/);
      assert.match(reasons[3]!, /more than 65536/);
    });

    it('resolveDeviceType prefers the file, else detects the arch and names the problem', async () => {
      const good = await file('good.json', '{"slug":"raspberrypi4-64","arch":"aarch64"}');
      assert.deepEqual(await resolveDeviceType({ deviceTypePath: good, nodeArch: 'x64' }), {
        deviceType: 'raspberrypi4-64',
        arch: 'aarch64',
        source: 'device-type.json',
      });
      assert.deepEqual(
        await resolveDeviceType({ deviceTypePath: join(dir, 'missing.json'), nodeArch: 'x64' }),
        { deviceType: undefined, arch: 'amd64', source: 'detected' },
      );
      const bad = await file('bad.json', 'not json');
      const resolved = await resolveDeviceType({ deviceTypePath: bad, nodeArch: 'arm64' });
      assert.equal(resolved.arch, 'aarch64');
      assert.equal(resolved.source, 'detected');
      assert.match(resolved.problem ?? '', /bad\.json ignored: not JSON/);
    });
  });

  describe('os-release', () => {
    it('reads PRETTY_NAME, VARIANT_ID and the board revision', async () => {
      assert.deepEqual(await readOsRelease(await file('os-release', BALENA_OS_RELEASE)), {
        kind: 'found',
        facts: { version: 'balenaOS 6.1.0', variantId: 'dev', boardRev: 'a1b2c3d' },
      });
    });

    it('falls back to RESIN_BOARD_REV and leaves absent fields undefined', async () => {
      const path = await file('os-release', 'ID=debian\nRESIN_BOARD_REV=old1\n');
      assert.deepEqual(await readOsRelease(path), {
        kind: 'found',
        facts: { version: undefined, variantId: undefined, boardRev: 'old1' },
      });
    });

    it('missing, empty, binary and symlinked files are reported, not thrown', async () => {
      assert.deepEqual(await readOsRelease(join(dir, 'none')), { kind: 'missing' });
      assert.equal((await readOsRelease(await file('empty', ''))).kind, 'invalid');
      const binary = await readOsRelease(await file('bin', 'PRETTY_NAME=x\0y\n'));
      assert.deepEqual(binary, { kind: 'invalid', reason: 'it contains NUL bytes' });
      await symlink('/etc/os-release', join(dir, 'absolute-link'));
      const absolute = await readOsRelease(join(dir, 'absolute-link'));
      assert.match(absolute.kind === 'invalid' ? absolute.reason : '', /absolute path/);
    });

    it('follows one relative link, as Debian and balenaOS ship /etc/os-release', async () => {
      await mkdir(join(dir, 'usr', 'lib'), { recursive: true });
      await mkdir(join(dir, 'etc'));
      await writeFile(join(dir, 'usr', 'lib', 'os-release'), BALENA_OS_RELEASE);
      await symlink('../usr/lib/os-release', join(dir, 'etc', 'os-release'));
      const read = await readOsRelease(join(dir, 'etc', 'os-release'));
      assert.equal(read.kind === 'found' ? read.facts.version : read.kind, 'balenaOS 6.1.0');
      await symlink('os-release', join(dir, 'etc', 'chain'));
      assert.equal((await readOsRelease(join(dir, 'etc', 'chain'))).kind, 'invalid');
    });

    it('the variant: VARIANT_ID when it says prod/dev, else config.json developmentMode', () => {
      assert.equal(osVariant('prod', true), 'prod');
      assert.equal(osVariant('dev', false), 'dev');
      assert.equal(osVariant('development', false), 'dev');
      assert.equal(osVariant(undefined, true), 'dev');
      assert.equal(osVariant(undefined, false), 'prod');
      assert.equal(osVariant('something-else', false), 'prod');
    });

    it('DeviceIdentity reports unknown (undefined) OS facts for a broken file, and never throws', async () => {
      const identity = new DeviceIdentity({
        osReleasePath: await file('os-release', '\0\0\0'),
        developmentMode: true,
      });
      assert.equal(await identity.osVersion(), undefined);
      assert.equal(await identity.osBoardRev(), undefined);
      assert.equal(await identity.osVariant(), 'dev');
    });
  });

  describe('loadDeviceIdentity (start-up wiring)', () => {
    const load = (env: Record<string, string>, configDeviceType?: string) =>
      loadDeviceIdentity({
        env,
        configPath: join(dir, 'config.json'),
        configDeviceType,
        configHostname: undefined,
        developmentMode: false,
        logger: silentLogger(),
      });

    it('on a device: type and arch from device-type.json next to config.json, OS from os-release', async () => {
      await file('device-type.json', '{"slug":"raspberrypi4-64","arch":"aarch64"}');
      const osRelease = await file('os-release', BALENA_OS_RELEASE);
      const identity = await load({ BOSUN_OS_RELEASE_PATH: osRelease }, 'ignored-config-type');
      assert.equal(identity.deviceType, 'raspberrypi4-64');
      assert.equal(identity.arch, 'aarch64');
      assert.equal(await identity.osVersion(), 'balenaOS 6.1.0');
      assert.equal(await identity.osVariant(), 'dev');
    });

    it('in development: arch detected from Node, type from config.json or the generic one', async () => {
      const env = { BOSUN_OS_RELEASE_PATH: join(dir, 'no-os-release') };
      const detected = await load(env);
      const expectedArch = { x64: 'amd64', arm64: 'aarch64' }[process.arch as 'x64' | 'arm64'];
      assert.equal(detected.arch, expectedArch);
      assert.equal(
        detected.deviceType,
        expectedArch === 'amd64' ? 'genericx86-64-ext' : 'generic-aarch64',
      );
      assert.equal(await detected.osVersion(), undefined);
      assert.equal((await load(env, 'intel-nuc')).deviceType, 'intel-nuc');
    });

    it('a broken device-type.json (BOSUN_DEVICE_TYPE_PATH) falls back like a missing one', async () => {
      const bad = await file('dt.json', '{"slug": 42}');
      const identity = await load({ BOSUN_DEVICE_TYPE_PATH: bad }, 'intel-nuc');
      assert.equal(identity.deviceType, 'intel-nuc');
      assert.equal(
        identity.arch,
        { x64: 'amd64', arm64: 'aarch64' }[process.arch as 'x64' | 'arm64'],
      );
    });
  });
});
