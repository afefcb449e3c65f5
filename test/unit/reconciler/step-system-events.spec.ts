import assert from 'node:assert/strict';
import { formatSystemEvent } from '../../../src/logs/system-logger.js';
import type { Step } from '../../../src/planner/steps.js';
import {
  namingFrom,
  stepSystemEvent,
  type StepPhase,
} from '../../../src/reconciler/step-system-events.js';
import {
  APP_A,
  containerFor,
  emptyCurrent,
  image,
  imageIdOf,
  network,
  service,
} from '../../support/planner-builders.js';

const rel = { app: APP_A, commit: 'c1', releaseId: 1 };
const web = service(rel, 'web');
const running = containerFor(APP_A, web);
const current = { ...emptyCurrent(), containers: [running], images: [image(web.image)] };
const base = { reason: 'test', dependsOn: [], appUuid: APP_A.uuid };

function line(step: Step, phase: StepPhase, error?: unknown): string | undefined {
  const e = stepSystemEvent(step, phase, namingFrom(current));
  return e === undefined ? undefined : formatSystemEvent(e.event, e.subject, error);
}

describe('stepSystemEvent (docs/protocol.md#system-log-messages texts)', () => {
  it('words the life of a service with its engine image id', () => {
    const create: Step = { ...base, id: 'c', kind: 'createContainer', service: web };
    const start: Step = {
      ...base,
      id: 's',
      kind: 'startContainer',
      containerId: running.id,
      serviceName: 'web',
    };
    const stop: Step = {
      ...base,
      id: 'k',
      kind: 'stopContainer',
      containerId: running.id,
      serviceName: 'web',
      timeoutSec: 10,
    };
    const id = imageIdOf(web.image);
    assert.deepEqual(
      [
        line(create, 'start'),
        line(create, 'ok'),
        line(start, 'start'),
        line(start, 'ok'),
        line(stop, 'start'),
        line(stop, 'ok'),
      ],
      [
        `Installing service 'web ${id}'`,
        `Installed service 'web ${id}'`,
        `Starting service 'web ${id}'`,
        `Started service 'web ${id}'`,
        `Killing service 'web ${id}'`,
        `Killed service 'web ${id}'`,
      ],
    );
    assert.equal(
      line(start, 'failed', new Error('port is taken')),
      `Failed to start service 'web ${id}' due to 'port is taken'`,
    );
  });

  it('words images, networks, volumes and locks, and stays quiet for bookkeeping steps', () => {
    const pull: Step = {
      ...base,
      id: 'p',
      kind: 'pullImage',
      image: 'registry/app:1',
      serviceName: 'web',
    };
    assert.equal(line(pull, 'start'), "Downloading image 'registry/app:1'");
    assert.equal(
      line(pull, 'failed', new Error('401')),
      "Failed to download image 'registry/app:1' due to '401'",
    );
    assert.equal(
      line(
        { ...base, id: 'n', kind: 'createNetwork', network: network(APP_A, 'default') },
        'start',
      ),
      "Creating network 'default'",
    );
    assert.equal(
      line({ ...base, id: 'n', kind: 'createNetwork', network: network(APP_A, 'default') }, 'ok'),
      undefined,
    );
    assert.equal(
      line({ ...base, id: 'v', kind: 'removeVolume', engineName: '1_data' }, 'start'),
      "Removing volume 'data'",
    );
    assert.equal(
      line(
        { ...base, id: 'l', kind: 'takeLock', appId: 1, services: ['web'], force: false },
        'start',
      ),
      'Taking update locks',
    );
    assert.equal(line({ ...base, id: 'r', kind: 'recordCommit', commit: 'c1' }, 'ok'), undefined);
  });
});
