/**
 * The test infrastructure scripts keep their promises: idempotent, quick when done, registries on
 * loopback only, the auth registry really checks credentials, and the documented images exist.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { requireDocker } from '../support/docker.js';
import { TEST_IMAGES } from '../support/images.js';
import {
  AUTH_REGISTRY,
  OPEN_REGISTRY,
  REGISTRY_CREDENTIALS,
  requireRegistries,
} from '../support/registry.js';

const run = promisify(execFile);
const script = (name: string): string =>
  fileURLToPath(new URL(`../../scripts/${name}`, import.meta.url));

function basic(username: string, password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
}

async function manifestStatus(
  reference: string,
  headers: Record<string, string> = {},
): Promise<number> {
  const slash = reference.indexOf('/');
  const colon = reference.lastIndexOf(':');
  const url = `http://${reference.slice(0, slash)}/v2/${reference.slice(slash + 1, colon)}/manifests/${reference.slice(colon + 1)}`;
  const res = await fetch(url, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json', ...headers },
  });
  return res.status;
}

describe('test infrastructure scripts', function () {
  this.timeout(120_000);

  before(async function () {
    await requireDocker();
    await requireRegistries();
  });

  it('ensure-registry.sh is idempotent and names both registries', async function () {
    const { stdout } = await run('bash', [script('ensure-registry.sh')]);
    assert.ok(stdout.includes(`registry open: ${OPEN_REGISTRY}`), stdout);
    assert.ok(stdout.includes(`registry auth: ${AUTH_REGISTRY}`), stdout);
  });

  it('binds the registries to 127.0.0.1 only', async function () {
    const { stdout } = await run('ss', ['-Hltn']);
    for (const registry of [OPEN_REGISTRY, AUTH_REGISTRY]) {
      const port = registry.split(':')[1]!;
      const listeners = stdout
        .split('\n')
        .map((line) => line.trim().split(/\s+/)[3] ?? '')
        .filter((local) => local.endsWith(`:${port}`));
      assert.deepEqual(listeners, [`127.0.0.1:${port}`], `listeners on port ${port}`);
    }
  });

  it('the auth registry refuses missing and wrong credentials and accepts the right ones', async function () {
    const { username, password } = REGISTRY_CREDENTIALS;
    assert.equal(await manifestStatus(TEST_IMAGES.privateBusybox), 401);
    assert.equal(await manifestStatus(TEST_IMAGES.privateBusybox, basic(username, 'wrong')), 401);
    assert.equal(await manifestStatus(TEST_IMAGES.privateBusybox, basic(username, password)), 200);
  });

  it('make-test-images.sh leaves every documented image in its registry, and a second run builds nothing', async function () {
    const { stderr } = await run('bash', [script('make-test-images.sh')]);
    assert.ok(!stderr.includes('building'), `nothing rebuilt: ${stderr}`);
    for (const image of [TEST_IMAGES.busybox, TEST_IMAGES.busybox2, TEST_IMAGES.large]) {
      assert.equal(await manifestStatus(image), 200, image);
    }
  });
});
