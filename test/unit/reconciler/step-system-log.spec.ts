import assert from 'node:assert/strict';
import type { StepOutcome } from '../../../src/executor/execute-plan.js';
import {
  formatSystemEvent,
  type SystemEvent,
  type SystemEventSubject,
  type SystemLogger,
} from '../../../src/logs/system-logger.js';
import type { Step } from '../../../src/planner/steps.js';
import { StepSystemLog } from '../../../src/reconciler/step-system-log.js';
import { TargetRefusals } from '../../../src/reconciler/target-refusals.js';
import { BosunError } from '../../../src/shared/errors.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { APP_A, emptyCurrent, service } from '../../support/planner-builders.js';

class RecordingSystemLogger implements SystemLogger {
  readonly lines: Array<{ text: string; isStdErr: boolean }> = [];
  event(event: SystemEvent, subject?: SystemEventSubject, error?: unknown): void {
    this.lines.push({
      text: formatSystemEvent(event, subject, error),
      isStdErr: error !== undefined,
    });
  }
  message(text: string, options: { isStdErr?: boolean } = {}): void {
    this.lines.push({ text, isStdErr: options.isStdErr === true });
  }
}

const web = service({ app: APP_A, commit: 'c1', releaseId: 1 }, 'web');
const base = { reason: 'test', dependsOn: [], appUuid: APP_A.uuid };
const pull: Step = { ...base, id: 'p', kind: 'pullImage', image: web.image, serviceName: 'web' };
const create: Step = { ...base, id: 'c', kind: 'createContainer', service: web };
const start: Step = {
  ...base,
  id: 's',
  kind: 'startContainer',
  containerId: web.containerName,
  serviceName: 'web',
};
const ok = (step: Step): StepOutcome => ({ step, status: 'ok', error: undefined });

describe('StepSystemLog', () => {
  it('names a service by the engine id its image got earlier in the same round', () => {
    const system = new RecordingSystemLogger();
    const log = new StepSystemLog({
      systemLogger: system,
      logger: silentLogger(),
      lockRetryMs: 1000,
    });
    const round = emptyCurrent(); // the image is not on the device when the round is planned
    log.stepStarted(pull, round);
    log.imagePulled(web.image, 'sha256:abc');
    log.stepEnded(ok(pull), round);
    for (const step of [create, start]) {
      log.stepStarted(step, round);
      log.stepEnded(ok(step), round);
    }
    assert.deepEqual(
      system.lines.map((l) => l.text),
      [
        `Downloading image '${web.image}'`,
        `Downloaded image '${web.image}'`,
        "Installing service 'web sha256:abc'",
        "Installed service 'web sha256:abc'",
        "Starting service 'web sha256:abc'",
        "Started service 'web sha256:abc'",
      ],
    );
  });

  it('says failures with their reason, lock waits as balena does, and nothing for cancelled or skipped steps', () => {
    const system = new RecordingSystemLogger();
    const log = new StepSystemLog({
      systemLogger: system,
      logger: silentLogger(),
      lockRetryMs: 1000,
    });
    const round = emptyCurrent();
    log.stepEnded(
      { step: create, status: 'failed', error: new BosunError('ENGINE_ERROR', 'no space left') },
      round,
    );
    log.stepEnded(
      { step: start, status: 'cancelled', error: new BosunError('CANCELLED', 'newer target') },
      round,
    );
    log.stepEnded(
      { step: start, status: 'skipped', error: new BosunError('APPLY_FAILED', 'dependency') },
      round,
    );
    const take: Step = {
      ...base,
      id: 'l',
      kind: 'takeLock',
      appId: 1,
      services: ['web'],
      force: false,
    };
    log.stepEnded(
      { step: take, status: 'failed', error: new BosunError('UPDATES_LOCKED', 'Lockfile exists') },
      round,
    );
    assert.deepEqual(system.lines, [
      {
        text: `Failed to install service 'web ${web.image}' due to 'no space left'`,
        isStdErr: true,
      },
      { text: 'Updates are locked, retrying in 1s. Reason: Lockfile exists', isStdErr: true },
    ]);
  });
});

describe('TargetRefusals', () => {
  it('says each refusal with its reason, a stored one once until a target is accepted', async () => {
    const system = new RecordingSystemLogger();
    const refusals = new TargetRefusals(system, silentLogger());
    let valid = false;
    const load = refusals.watch(() =>
      valid
        ? Promise.resolve('target')
        : Promise.reject(new BosunError('VALIDATION_FAILED', 'apps.1.services: bad')),
    );
    await assert.rejects(load(), /bad/);
    await assert.rejects(load(), /bad/);
    refusals.refused(new BosunError('VALIDATION_FAILED', 'body.local: bad'), 'pushed');
    valid = true;
    assert.equal(await load(), 'target');
    valid = false;
    await assert.rejects(load(), /bad/);
    const text = 'Target state refused, nothing was changed:';
    assert.deepEqual(system.lines, [
      { text: `${text} apps.1.services: bad`, isStdErr: true },
      { text: `${text} body.local: bad`, isStdErr: true },
      { text: `${text} apps.1.services: bad`, isStdErr: true },
    ]);
  });
});
