import assert from 'node:assert/strict';
import { describeDashboard } from '../../../src/agent/dashboard-view.js';
import type { ReconcilerSnapshot } from '../../../src/agent/ports.js';
import type { ContainerState, CurrentState } from '../../../src/domain/model.js';
import type { Plan } from '../../../src/planner/steps.js';
import type { ReconcileStatus, ServiceStatus } from '../../../src/reconciler/status.js';

const device = {
  name: 'pi',
  uuid: 'u',
  deviceType: 'raspberrypi4-64',
  os: 'Debian',
  version: '0.1.0',
  mode: 'local' as const,
  connectivity: 'local',
  ipAddresses: [],
};

function service(name: string, extra: Partial<ServiceStatus>): ServiceStatus {
  return {
    serviceName: name,
    image: 'img',
    status: 'Running',
    containerId: undefined,
    downloadProgress: undefined,
    waitingFor: undefined,
    error: undefined,
    ...extra,
  };
}

function container(id: string, name: string, extra: Partial<ContainerState>): ContainerState {
  return {
    id,
    name: `${name}_1_1_c1`,
    appId: 7,
    appUuid: 'app',
    serviceName: name,
    serviceId: 1,
    imageId: 1,
    releaseId: 1,
    commit: 'c1',
    engineImageId: 'sha256:x',
    configHash: undefined,
    status: 'running',
    health: 'none',
    exitCode: undefined,
    createdAt: '2026-01-01T00:00:00Z',
    startedAt: undefined,
    networks: [],
    volumes: [],
    handoverOld: false,
    restartPolicy: 'always',
    ...extra,
  };
}

function snapshot(
  phase: ReconcileStatus['phase'],
  services: ServiceStatus[],
  current: Partial<CurrentState>,
): ReconcilerSnapshot {
  return {
    target: undefined,
    current: {
      containers: [],
      images: [],
      networks: [],
      volumes: [],
      locks: [],
      downloads: [],
      handoverComplete: [],
      commits: {},
      ...current,
    },
    status: {
      appState: phase === 'converged' ? 'applied' : 'applying',
      phase,
      rounds: 3,
      lastAppliedAt: undefined,
      lastError: undefined,
      lastProgressAt: undefined,
      apps: {
        app: {
          appUuid: 'app',
          appId: 7,
          name: 'demo',
          targetCommit: 'c2',
          currentCommit: 'c1',
          updateStatus: 'downloaded',
          services: Object.fromEntries(services.map((s) => [s.serviceName, s])),
        },
      },
    },
  };
}

describe('dashboard view: the agent state in plain words', () => {
  it('names the lock holder and since when, download progress, health and restarts', () => {
    const plan: Plan = {
      steps: [
        {
          kind: 'pullImage',
          id: 'pull',
          reason: 'Download img for worker.',
          dependsOn: [],
          appUuid: 'app',
          image: 'img',
          serviceName: 'worker',
        },
      ],
      blockers: [{ kind: 'locked', appUuid: 'app', serviceName: 'main' }],
    };
    const view = describeDashboard({
      snapshot: snapshot(
        'blocked',
        [
          service('main', { containerId: 'abc', waitingFor: { kind: 'locked' } }),
          service('worker', { status: 'Downloading', downloadProgress: 43 }),
        ],
        {
          containers: [container('abc', 'main', { health: 'healthy', restartCount: 3 })],
          locks: [{ appId: 7, serviceName: 'main', heldBy: 'user', since: 1 }],
        },
      ),
      plan,
      device,
      now: 0,
      timeOfDay: () => '10:42',
    });
    const app = view.apps[0]!;
    assert.equal(app.waiting, 'waiting for the update lock held by service main since 10:42');
    assert.equal(
      view.summary,
      'Waiting: waiting for the update lock held by service main since 10:42.',
    );
    const [main, worker] = app.services;
    assert.equal(main!.waiting, 'waiting for the update lock held by service main since 10:42');
    assert.equal(main!.health, 'healthy');
    assert.equal(main!.restartCount, 3);
    assert.equal(worker!.waiting, 'downloading 43%');
    assert.deepEqual(view.plan, [
      'Download img for worker.',
      'service main: holds the update lock',
    ]);
  });

  it('says up to date, with no plan, once converged', () => {
    const view = describeDashboard({
      snapshot: snapshot('converged', [service('main', { containerId: 'abc' })], {}),
      plan: { steps: [], blockers: [] },
      device,
      now: 0,
    });
    assert.equal(view.summary, 'Up to date.');
    assert.deepEqual(view.plan, []);
    assert.equal(view.apps[0]!.services[0]!.waiting, undefined);
  });

  it('says in words that a release failed its window and what runs instead, or that a window runs', () => {
    const base = snapshot('converged', [service('main', { containerId: 'abc' })], {});
    const withCheck = (releaseCheck: ReconcileStatus['apps'][string]['releaseCheck']) => ({
      ...base,
      status: {
        ...base.status,
        apps: { app: { ...base.status.apps['app']!, ...(releaseCheck ? { releaseCheck } : {}) } },
      },
    });
    const words = (s: ReconcilerSnapshot) =>
      describeDashboard({
        snapshot: s,
        plan: { steps: [], blockers: [] },
        device,
        now: 0,
        timeOfDay: () => '10:42',
      }).apps[0]!.release;
    assert.equal(words(base), undefined);
    assert.equal(
      words(
        withCheck({
          failed: {
            commit: 'c2c2c2c2c2',
            reason: 'service main: its healthcheck reports unhealthy',
            service: 'main',
            cause: 'unhealthy',
            at: 0,
            rolledBackTo: 'c1c1c1c1c1',
            images: {},
          },
        }),
      ),
      'Release c2c2c2c failed its confirmation window at 10:42 (service main: its healthcheck reports unhealthy); rolled back to release c1c1c1c. It is not tried again until the target changes.',
    );
    assert.equal(
      words(withCheck({ watching: { commit: 'c3c3c3c3c3', until: 0 } })),
      'Watching release c3c3c3c until 10:42: it is rolled back if a service turns unhealthy or crash-loops.',
    );
  });

  it('explains a dependency wait and a back-off in words', () => {
    const view = describeDashboard({
      snapshot: snapshot(
        'blocked',
        [
          service('api', {
            status: 'Installed',
            waitingFor: { kind: 'dependency', dependency: 'db', condition: 'service_healthy' },
          }),
          service('db', {
            status: 'exited',
            waitingFor: { kind: 'backoff', until: 5, error: 'no such image' },
          }),
        ],
        {},
      ),
      plan: undefined,
      device,
      now: 0,
      timeOfDay: () => '11:00',
    });
    const [api, db] = view.apps[0]!.services;
    assert.equal(api!.waiting, 'waiting for service db to be healthy');
    assert.equal(db!.waiting, 'failed, retrying at 11:00: no such image');
    assert.equal(view.summary, 'Waiting: waiting for service db to be healthy.');
  });

  it('says when a release waits for its update window, in the status, the summary and the plan', () => {
    const opens = Date.parse('2026-03-02T02:00:00Z');
    const view = describeDashboard({
      snapshot: snapshot(
        'blocked',
        [
          service('main', {
            containerId: 'abc',
            waitingFor: { kind: 'updateWindow', until: opens },
          }),
        ],
        { containers: [container('abc', 'main', {})] },
      ),
      plan: {
        steps: [],
        blockers: [
          { kind: 'outsideUpdateWindow', appUuid: 'app', serviceName: 'main', until: opens },
        ],
      },
      device,
      now: 0,
      timeOfDay: (ms) => (ms === opens ? '02:00' : '??:??'),
    });
    const main = view.apps[0]!.services[0]!;
    assert.equal(main.waiting, 'waiting for the update window (opens at 02:00)');
    assert.equal(view.summary, 'Waiting: waiting for the update window (opens at 02:00).');
    assert.deepEqual(view.plan, ['service main: waiting for the update window (opens at 02:00)']);
  });
});
