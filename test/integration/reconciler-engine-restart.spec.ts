/**
 * dockerd restarts in the middle of an apply: the reconciler waits for the engine (ENGINE_UNREACHABLE is
 * retryable), resumes on the event stream's `reconnected`, and converges. Restarts go through
 * scripts/ensure-engine.sh --restart, which holds /tmp/bosun-dockerd-restart.lock so that only one test
 * run on this machine restarts the engine at a time.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { requireDocker, TEST_LABEL, testDocker } from '../support/docker.js';
import { requireRegistries } from '../support/registry.js';
import { dockerRig, dockerTarget, type DockerRig } from './support/reconciler-docker.js';

const ENSURE_ENGINE = fileURLToPath(new URL('../../scripts/ensure-engine.sh', import.meta.url));
const NAMES = ['one', 'two', 'three', 'four', 'five'];

describe('Reconciler across a dockerd restart', function () {
  this.timeout(300_000);
  let rig: DockerRig | undefined;

  before(async () => {
    await requireDocker();
    await requireRegistries();
  });
  after(async () => {
    await requireDocker(); // the restart must have brought the engine back before clean-up
    await rig?.close();
  });

  it('converges after the engine restarts mid-apply', async () => {
    rig = await dockerRig('rec-restart');
    const r = rig;
    r.reconciler.start(
      dockerTarget(
        r,
        'c1',
        NAMES.map((name) => ({ name, data: name === 'one' })),
      ),
    );
    // Restart once the apply has visibly begun (some container exists), not before it.
    for (let i = 0; i < 600; i++) {
      const made = await testDocker().listContainers({
        all: true,
        filters: { label: [`${TEST_LABEL}=${r.prefix}`] },
      });
      if (made.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await promisify(execFile)('bash', [ENSURE_ENGINE, '--restart'], { timeout: 200_000 });

    const deadline = Date.now() + 120_000;
    let status = r.reconciler.status();
    while (Date.now() < deadline) {
      status = await r.reconciler.whenSettled({ afterRound: status.rounds });
      if (status.phase === 'converged') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = r.reconciler.status();
    }
    assert.equal(status.phase, 'converged', JSON.stringify(status));
    const list = await testDocker().listContainers({
      all: true,
      filters: { label: [`${TEST_LABEL}=${r.prefix}`] },
    });
    assert.deepEqual(list.map((c) => c.Labels['io.balena.service-name']).sort(), [...NAMES].sort());
    assert.ok(
      list.every((c) => c.State === 'running'),
      JSON.stringify(list.map((c) => [c.Names, c.State])),
    );
  });
});
