/**
 * Image pulls driven by the reconciler on the real engine: registry credentials from settings reach the
 * pull (the auth registry refuses anonymous pulls), progress shows in the service status while it
 * downloads, a refused pull backs off with the engine's error in the status, and a new target cancels a
 * pull in flight. Images are synthetic, in a repository unique to the run, and removed afterwards.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TargetState } from '../../src/domain/model.js';
import type { ReconcileStatus } from '../../src/reconciler/status.js';
import { removeImagesByPrefix, requireDocker, testDocker } from '../support/docker.js';
import {
  AUTH_REGISTRY,
  publishSyntheticImage,
  REGISTRY_CREDENTIALS,
  requireRegistries,
} from '../support/registry.js';
import { dockerRig, dockerTarget, type DockerRig } from './support/reconciler-docker.js';

describe('Reconciler pulls on the real engine', function () {
  this.timeout(180_000);
  const repository = `bosun-test/rec-pull-${randomBytes(4).toString('hex')}`;
  let rig: DockerRig | undefined;

  before(async () => {
    await requireDocker();
    await requireRegistries();
  });
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });
  after(async () => {
    await removeImagesByPrefix(`${AUTH_REGISTRY}/${repository}`);
  });

  /** A target whose only service runs `image` (not runnable: only the pull matters here). */
  const pulling = (r: DockerRig, image: string): TargetState =>
    dockerTarget(r, 'c1', [{ name: 'puller', image }]);

  it('pulls with the configured credentials and shows progress; without them the pull backs off with the registry error', async () => {
    const image = await publishSyntheticImage({
      registry: AUTH_REGISTRY,
      repository,
      tag: 'small',
      layerSizes: [4 << 20, 4 << 20],
      seed: repository,
    });

    rig = await dockerRig('rec-pull-noauth');
    rig.reconciler.start(pulling(rig, image));
    let status = await rig.reconciler.whenSettled();
    assert.equal(status.apps[rig.uuid]?.services['puller']?.waitingFor?.kind, 'backoff');
    assert.match(
      status.apps[rig.uuid]?.services['puller']?.error ?? '',
      /auth|denied|unauthorized|credentials/i,
    );
    await rig.close();

    const seen: ReconcileStatus[] = [];
    rig = await dockerRig(
      'rec-pull-auth',
      {},
      {
        [AUTH_REGISTRY]: {
          username: REGISTRY_CREDENTIALS.username,
          password: REGISTRY_CREDENTIALS.password,
        },
      },
    );
    rig.reconciler.onStatus((s) => seen.push(s));
    rig.reconciler.start(pulling(rig, image));
    status = await rig.reconciler.whenSettled();
    await testDocker().getImage(image).inspect(); // pulled
    const progress = seen
      .map((s) => s.apps[rig!.uuid]?.services['puller'])
      .filter((s) => s?.status === 'Downloading');
    assert.ok(progress.length > 0, 'reported as downloading');
    assert.ok(
      progress.every(
        (s) =>
          s!.downloadProgress !== undefined &&
          s!.downloadProgress >= 0 &&
          s!.downloadProgress <= 100,
      ),
      JSON.stringify(progress),
    );
    assert.deepEqual(
      (await rig.store.images.list()).map((i) => i.name),
      [image],
      'recorded as an image the agent pulled',
    );
  });

  it('a new target cancels a pull in flight and is applied instead', async () => {
    const big = await publishSyntheticImage({
      registry: AUTH_REGISTRY,
      repository,
      tag: 'big',
      layerSizes: [48 << 20, 48 << 20],
      seed: `${repository}-big`,
    });
    rig = await dockerRig(
      'rec-pull-cancel',
      {},
      {
        [AUTH_REGISTRY]: {
          username: REGISTRY_CREDENTIALS.username,
          password: REGISTRY_CREDENTIALS.password,
        },
      },
    );
    const r = rig;
    const downloading = new Promise<void>((resolve) =>
      r.reconciler.onStatus((s) => {
        if (s.apps[r.uuid]?.services['puller']?.status === 'Downloading') resolve();
      }),
    );
    r.reconciler.start(pulling(r, big));
    await downloading;
    r.reconciler.setTarget(dockerTarget(r, 'c2', [{ name: 'api' }], 2));
    const status = await r.reconciler.whenSettled();
    assert.equal(status.phase, 'converged');
    assert.equal(status.apps[r.uuid]?.services['api']?.status, 'Running');
    assert.equal(status.apps[r.uuid]?.services['puller'], undefined);
  });
});
