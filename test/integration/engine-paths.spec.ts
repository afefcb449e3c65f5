/**
 * Issue 8: image names went into engine API paths unencoded, so a `?` or `#` in a name cut the path
 * and the engine answered about a different image (the query string or fragment was dropped). Every
 * path segment is encoded now: such a name is simply not found.
 */
import assert from 'node:assert/strict';
import { DockerEngine } from '../../src/engine/docker-engine.js';
import { systemClock } from '../../src/shared/clock.js';
import { isBosunError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import { DOCKER_SOCKET, requireDocker, testDocker, uniquePrefix } from '../support/docker.js';
import { TEST_IMAGES } from '../support/images.js';
import { requireRegistries } from '../support/registry.js';

describe('DockerEngine: image names in paths are encoded', function () {
  this.timeout(60_000);
  let engine: DockerEngine;

  before(async () => {
    await requireDocker();
    await requireRegistries();
    engine = new DockerEngine({
      socketPath: DOCKER_SOCKET,
      logger: silentLogger(),
      clock: systemClock,
    });
  });
  after(() => engine.close());

  it('a real image name (registry host, port, path, tag) still resolves', async () => {
    const image = await engine.inspectImage(TEST_IMAGES.busybox);
    assert.ok(image.repoTags.includes(TEST_IMAGES.busybox), JSON.stringify(image.repoTags));
  });

  it('removing "<own tag>?force=1" removes nothing (before: the query reached the engine and forced it)', async () => {
    // A tag of our own, so that even the unfixed code can only ever remove this test's tag.
    const repo = `${uniquePrefix('paths')}/victim`;
    const docker = testDocker();
    await docker.getImage(TEST_IMAGES.busybox).tag({ repo, tag: 'keep' });
    try {
      await assert.rejects(
        () => engine.removeImage(`${repo}:keep?force=1`),
        (err: unknown) => isBosunError(err),
      );
      await docker.getImage(`${repo}:keep`).inspect(); // still there
    } finally {
      await docker
        .getImage(`${repo}:keep`)
        .remove({ noprune: true })
        .catch(() => undefined);
    }
  });

  for (const suffix of ['?force=1', '#x', '/../../containers/json?']) {
    it(`"${TEST_IMAGES.busybox}${suffix}" does not reach another image or route`, async () => {
      const name = `${TEST_IMAGES.busybox}${suffix}`;
      await assert.rejects(
        () => engine.inspectImage(name),
        (err: unknown) => isBosunError(err, 'NOT_FOUND') || isBosunError(err, 'ENGINE_ERROR'),
      );
    });
  }
});
