/**
 * The reboot a release asks for: asked once everything else converged, with a breadcrumb (a real file)
 * so it is not asked again in the same boot, and asked again after a refusal (an update lock).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  onlyRebootLeft,
  REBOOT_BREADCRUMB,
  RebootAfterApply,
} from '../../../src/device/reboot-after-apply.js';
import type { ReconcileStatus, ServiceStatus, WaitReason } from '../../../src/reconciler/status.js';
import { BosunError } from '../../../src/shared/errors.js';
import { silentLogger } from '../../../src/shared/logger.js';

function service(serviceName: string, waitingFor?: WaitReason): ServiceStatus {
  return {
    serviceName,
    image: 'img',
    status: waitingFor ? 'Installed' : 'Running',
    containerId: 'c',
    downloadProgress: undefined,
    waitingFor,
    error: undefined,
  };
}

function status(phase: ReconcileStatus['phase'], services: ServiceStatus[]): ReconcileStatus {
  return {
    appState: 'applying',
    phase,
    rounds: 3,
    lastAppliedAt: undefined,
    lastError: undefined,
    lastProgressAt: undefined,
    apps: {
      u1: {
        appUuid: 'u1',
        appId: 1,
        name: 'app',
        targetCommit: 'c2',
        currentCommit: 'c1',
        updateStatus: 'applying changes',
        services: Object.fromEntries(services.map((s) => [s.serviceName, s])),
      },
    },
  };
}

const onlyReboot = status('blocked', [service('web'), service('driver', { kind: 'reboot' })]);

describe('reboot after apply (io.balena.update.requires-reboot)', () => {
  let dir: string;
  let asked: Array<'reboot'>;
  let refuse: boolean;
  const power = {
    request: (action: 'reboot') => {
      asked.push(action);
      return refuse
        ? Promise.reject(new BosunError('UPDATES_LOCKED', 'web holds its lock'))
        : Promise.resolve();
    },
  };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bosun-test-reboot-'));
    asked = [];
    refuse = false;
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const scheduler = (bootTime = Date.now() - 60_000) =>
    new RebootAfterApply({ lockRoot: dir, bootTime, power, logger: silentLogger() });

  it('waits while anything else is still on its way', () => {
    assert.equal(onlyRebootLeft(onlyReboot), true);
    assert.equal(
      onlyRebootLeft(
        status('blocked', [
          service('web', { kind: 'images' }),
          service('driver', { kind: 'reboot' }),
        ]),
      ),
      false,
    );
    assert.equal(onlyRebootLeft(status('converged', [service('web')])), false);
    assert.equal(onlyRebootLeft(status('blocked', [service('web', { kind: 'locked' })])), false);
  });

  it('asks once, writes the breadcrumb naming the services, and does not ask again this boot', async () => {
    const s = scheduler();
    await s.onStatus(
      status('blocked', [
        service('web', { kind: 'images' }),
        service('driver', { kind: 'reboot' }),
      ]),
    );
    assert.deepEqual(asked, []);
    await s.onStatus(onlyReboot);
    assert.deepEqual(asked, ['reboot']);
    const crumb = JSON.parse(await readFile(join(dir, REBOOT_BREADCRUMB), 'utf8')) as unknown;
    assert.deepEqual(crumb, { services: ['app/driver'] });
    await s.onStatus(onlyReboot);
    await scheduler().onStatus(onlyReboot); // a restarted agent in the same boot
    assert.deepEqual(asked, ['reboot']);
  });

  it('a breadcrumb from before this boot does not hold a new reboot back', async () => {
    await scheduler().onStatus(onlyReboot);
    const crumb = join(dir, REBOOT_BREADCRUMB);
    const old = new Date(Date.now() - 3_600_000);
    await utimes(crumb, old, old);
    await scheduler(Date.now() - 60_000).onStatus(onlyReboot);
    assert.deepEqual(asked, ['reboot', 'reboot']);
    assert.ok((await stat(crumb)).mtimeMs > Date.now() - 60_000);
  });

  it('held back by an update lock: no breadcrumb left, asked again on the next status', async () => {
    refuse = true;
    const s = scheduler();
    await s.onStatus(onlyReboot);
    await assert.rejects(stat(join(dir, REBOOT_BREADCRUMB)));
    refuse = false;
    await s.onStatus(onlyReboot);
    assert.deepEqual(asked, ['reboot', 'reboot']);
    await stat(join(dir, REBOOT_BREADCRUMB));
  });
});
