/** Judging an applied release inside its confirmation window from plain observations. */
import assert from 'node:assert/strict';
import {
  judge,
  releaseApplied,
  ROLLBACK_LABEL,
} from '../../../../src/reconciler/rollback/release-watch.js';
import type { WatchedReleaseRecord } from '../../../../src/store/ports.js';
import type { ContainerState } from '../../../../src/domain/model.js';
import {
  app,
  APP_A,
  containerFor,
  emptyCurrent,
  release,
  service,
} from '../../../support/planner-builders.js';

const rel = { app: APP_A, commit: 'c2', releaseId: 2 };
const main = service(rel, 'main', { healthcheck: true });
const side = service(rel, 'side');
const optedOut = service(rel, 'flaky', { labels: { [ROLLBACK_LABEL]: 'false' } });
const appTarget = app(APP_A, release(rel, { services: [main, side, optedOut] }));
const T0 = 1_000_000;
const watch: WatchedReleaseRecord = {
  appUuid: APP_A.uuid,
  commit: 'c2',
  docHash: 'h2',
  startedAt: T0,
  deadline: T0 + 5_000,
  restarts: {},
  exits: {},
};
const emptyPlan = { steps: [], blockers: [] };

const observe = (...containers: ContainerState[]) => ({ ...emptyCurrent(), containers });
const up = (overrides: Partial<ContainerState> = {}) => [
  containerFor(APP_A, main, overrides),
  containerFor(APP_A, side),
  containerFor(APP_A, optedOut),
];

describe('release watch: applied, failed or confirmed', () => {
  it('applied once every service runs a container of the release and only book-keeping is planned', () => {
    assert.equal(releaseApplied(appTarget, observe(...up()), emptyPlan), true);
    const old = containerFor(APP_A, service({ ...rel, commit: 'c1', releaseId: 1 }, 'main'));
    assert.equal(releaseApplied(appTarget, observe(...up(), old), emptyPlan), false, 'old left');
    const missing = observe(containerFor(APP_A, main));
    assert.equal(releaseApplied(appTarget, missing, emptyPlan), false, 'a service has none');
    const pulling = {
      steps: [],
      blockers: [
        {
          kind: 'imageDownloading' as const,
          appUuid: APP_A.uuid,
          serviceName: 'side',
          image: 'x',
          progress: undefined,
        },
      ],
    };
    assert.equal(releaseApplied(appTarget, observe(...up()), pulling), false, 'still downloading');
    const crashing = {
      steps: [],
      blockers: [
        {
          kind: 'backoff' as const,
          appUuid: APP_A.uuid,
          serviceName: 'main',
          stepId: 'startContainer:x',
          until: 1,
          error: 'x',
        },
      ],
    };
    assert.equal(releaseApplied(appTarget, observe(...up()), crashing), true, 'backoff: judged');
  });

  it('healthy inside the window: still watching; at its end: confirmed', () => {
    const inside = judge(watch, appTarget, observe(...up()), T0 + 1_000);
    assert.equal(inside.kind, 'watching');
    assert.equal(judge(watch, appTarget, observe(...up()), T0 + 5_000).kind, 'confirmed');
  });

  it('a healthcheck still starting at the end is not a pass yet', () => {
    const starting = observe(...up({ health: 'starting' }));
    assert.equal(judge(watch, appTarget, starting, T0 + 6_000).kind, 'watching');
  });

  it('unhealthy inside the window fails the release, naming the service', () => {
    const j = judge(watch, appTarget, observe(...up({ health: 'unhealthy' })), T0 + 100);
    assert.equal(j.kind, 'failed');
    assert.ok(
      j.kind === 'failed' && j.failure.cause === 'unhealthy' && j.failure.service === 'main',
    );
  });

  it('engine restarts since the window opened make a crash loop; restarts from before do not', () => {
    const first = judge(watch, appTarget, observe(...up({ restartCount: 4 })), T0 + 100);
    assert.equal(first.kind, 'watching', 'baseline taken at first sight');
    assert.ok(first.kind === 'watching' && first.changed);
    const next = first.kind === 'watching' ? first.watch : watch;
    assert.equal(
      judge(next, appTarget, observe(...up({ restartCount: 6 })), T0 + 200).kind,
      'watching',
    );
    const j = judge(next, appTarget, observe(...up({ restartCount: 7 })), T0 + 300);
    assert.ok(j.kind === 'failed' && j.failure.cause === 'crashLoop', JSON.stringify(j));
  });

  it('exits with an error count once per run; stops by signal do not count', () => {
    let w = watch;
    for (const [i, code] of [1, 1, 143, 2].entries()) {
      const exited = up({ status: 'exited', exitCode: code, startedAt: `2024-01-01T00:00:0${i}Z` });
      for (let again = 0; again < 2; again++) {
        const j = judge(w, appTarget, observe(...exited), T0 + 100 + i);
        if (i < 3) {
          assert.equal(j.kind, 'watching', `run ${i}`);
          if (j.kind === 'watching') w = j.watch;
        } else
          assert.ok(
            j.kind === 'failed' &&
              j.failure.cause === 'crashLoop' &&
              /exit code 2/.test(j.failure.reason),
          );
      }
    }
  });

  it('not running at the end of the window fails it; a one-shot that exited 0 passes', () => {
    const down = up({ status: 'exited', exitCode: 1 });
    const j = judge(watch, appTarget, observe(...down), T0 + 5_000);
    assert.ok(j.kind === 'failed' && j.failure.cause === 'notRunning');
    const done = up({ status: 'exited', exitCode: 0 });
    assert.equal(judge(watch, appTarget, observe(...done), T0 + 5_000).kind, 'confirmed');
  });

  it('a service labelled io.bosun.rollback=false is not watched', () => {
    const flaky = [
      containerFor(APP_A, main),
      containerFor(APP_A, side),
      containerFor(APP_A, optedOut, { health: 'unhealthy', restartCount: 50 }),
    ];
    assert.equal(judge(watch, appTarget, observe(...flaky), T0 + 5_000).kind, 'confirmed');
  });
});
