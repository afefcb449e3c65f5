/**
 * `npm run test:arm64` (not part of `npm test`: an emulated build takes long): bosun's aarch64 image,
 * built from the debootstrap bases with every build step under qemu-user-static (better-sqlite3
 * compiled for aarch64), run under emulation against this machine's engine. It brings the same
 * two-service release up and answers balena-cli's local-mode calls, reporting `aarch64` — detected by
 * the emulated Node itself, since the fake boot partition has no device-type.json. Timings and memory
 * are printed for BENCHMARKS.md. BOSUN_ARM64_IMAGE=<tag> runs an aarch64 image built beforehand instead
 * (the build alone takes about an hour under emulation on a shared 2-core machine).
 * BOSUN_ARM64_ADDON=cross builds with better-sqlite3 cross-compiled on this machine
 * (`scripts/build-image.sh --addon cross`): every other build step still runs under emulation, and the
 * addon is load-checked there; the default, `native`, compiles it inside the emulated build stage.
 */
import assert from 'node:assert/strict';
import { cleanupByLabel, requireDocker, testDocker, uniquePrefix } from '../support/docker.js';
import { TEST_IMAGES } from '../support/images.js';
import { requireRegistries } from '../support/registry.js';
import { buildImage, catIn, FakeHost } from '../e2e/support/bosun-container.js';
import { localTargetBody } from '../support/local-target-body.js';

describe('bosun aarch64 image under emulation', function () {
  this.timeout(180 * 60_000);
  const prebuilt = process.env['BOSUN_ARM64_IMAGE'];
  const addon = process.env['BOSUN_ARM64_ADDON'] ?? 'native';
  const tag = prebuilt ?? `bosun-e2e-image:${uniquePrefix('arm64')}`;
  let host: FakeHost | undefined;

  before(async () => {
    await requireDocker();
    await requireRegistries();
  });
  after(async () => {
    if (host !== undefined) {
      // The agent first, so it cannot recreate an app container while the clean-up removes them.
      await testDocker()
        .getContainer(`${host.prefix}-bosun`)
        .remove({ force: true })
        .catch(() => undefined);
      await cleanupByLabel(host.prefix);
      await host.remove();
    }
    await testDocker()
      .getImage(tag)
      .remove()
      .catch(() => undefined);
  });

  it('builds, brings the two-service release up and answers /ping, /v2/version, /v2/local/device-info (aarch64)', async () => {
    if (prebuilt === undefined) {
      assert.ok(
        addon === 'native' || addon === 'cross',
        `BOSUN_ARM64_ADDON is native or cross, not ${addon}`,
      );
      const built = await buildImage(tag, 'aarch64', false, addon);
      console.log(
        `      aarch64 image (addon ${addon}): ${built.bytes} bytes, built in ${built.seconds} s`,
      );
    }
    const image = await testDocker().getImage(tag).inspect();
    assert.equal(image.Architecture, 'arm64');

    host = await FakeHost.create(uniquePrefix('arm64'), null);
    const bosun = await host.startBosun(tag, `${host.prefix}-bosun`);
    console.log(`      start to first /ping under emulation: ${host.lastStartMs} ms`);

    const ping = await fetch(`${host.url}/ping`);
    assert.equal(ping.status, 200);
    assert.equal(await ping.text(), 'OK');
    const version = (await host.get('/v2/version')) as { status?: string; version?: string };
    assert.equal(version.status, 'success');
    assert.match(version.version ?? '', /^\d+\.\d+\.\d+/);
    const info = (await host.get('/v2/local/device-info')) as {
      status?: string;
      info?: { arch?: string; deviceType?: string };
    };
    assert.equal(info.status, 'success');
    assert.equal(info.info?.arch, 'aarch64');
    assert.equal(info.info?.deviceType, 'generic-aarch64');

    const started = Date.now();
    await host.post(
      '/v2/local/target-state',
      localTargetBody(host.prefix, 1, `${host.prefix.slice(-8)}01`, 1, TEST_IMAGES.busybox, [
        { name: 'web', data: true, env: { GREETING: 'hello' } },
        { name: 'worker', env: { ROLE: 'worker' } },
      ]),
    );
    const apps = await host.waitApplied(['web', 'worker'], bosun);
    assert.equal(apps.size, 2);
    const status = await catIn(bosun, '/proc/1/status');
    assert.match(await catIn(bosun, '/proc/1/cmdline'), /node\0.*dist\/bosun\.mjs/);
    const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
    console.log(
      `      release applied in ${Date.now() - started} ms; agent peak RSS ${Math.round(hwm / 1024)} MiB (emulated)`,
    );
  });
});
