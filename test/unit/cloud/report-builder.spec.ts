/** The pure parts of the state report: metric thresholds, the diff, the exact image echo. */
import assert from 'node:assert/strict';
import {
  buildAppsReport,
  reportDiff,
  significantMetrics,
} from '../../../src/cloud/report-builder.js';
import type { ReconcileStatus } from '../../../src/reconciler/status.js';

const metrics = {
  cpu_usage: 12,
  memory_usage: 812,
  memory_total: 3906,
  storage_usage: 2100,
  storage_total: 29000,
  storage_block_device: '/dev/sda1',
  cpu_temp: 48,
  cpu_id: null,
};

describe('cloud report builder', () => {
  it('re-reports a metric only when it moves to another bucket (cpu 20, temperature 5, memory 10 MiB)', () => {
    assert.deepEqual(
      significantMetrics({ ...metrics, cpu_usage: 19, cpu_temp: 49, memory_usage: 819 }, metrics),
      {},
    );
    assert.deepEqual(
      significantMetrics({ ...metrics, cpu_usage: 20, cpu_temp: 50, memory_usage: 820 }, metrics),
      {
        cpu_usage: 20,
        cpu_temp: 50,
        memory_usage: 820,
      },
    );
    assert.deepEqual(significantMetrics({ ...metrics, storage_usage: 2101 }, metrics), {
      storage_usage: 2101,
    });
    assert.deepEqual(significantMetrics(metrics, {}), metrics);
  });

  it('diffs top-level fields, sending `apps` whole when anything inside changed', () => {
    const acked = { ip_address: 'a', apps: { x: { releases: { c: { update_status: 'done' } } } } };
    assert.deepEqual(reportDiff({ ...acked }, acked), {});
    const changed = {
      ip_address: 'a',
      apps: { x: { releases: { c: { update_status: 'downloading' } } } },
    };
    assert.deepEqual(reportDiff(changed, acked), { apps: changed.apps });
  });

  it("echoes each service's image exactly as the stored target gave it, not the normalised one", () => {
    const status = {
      apps: {
        app1: {
          appUuid: 'app1',
          appId: 1,
          name: 'a',
          targetCommit: 'c1',
          currentCommit: 'c0',
          updateStatus: 'downloading',
          services: {
            main: {
              serviceName: 'main',
              image: 'docker.io/library/registry2.example/v2/abc:latest',
              status: 'Downloading',
              containerId: undefined,
              downloadProgress: 42,
              waitingFor: undefined,
              error: undefined,
            },
          },
        },
      },
    } as unknown as ReconcileStatus;
    const target = {
      name: 'd',
      config: {},
      apps: {
        app1: {
          releases: {
            c1: { services: { main: { image: 'Registry2.example/v2/ABC' }, gone: { image: 'x' } } },
          },
        },
      },
    };
    assert.deepEqual(buildAppsReport(status, target, new Map([['app1', 'c2']])), {
      app1: {
        release_uuid: 'c0',
        releases: {
          c1: {
            update_status: 'downloading',
            services: {
              main: {
                image: 'Registry2.example/v2/ABC',
                status: 'Downloading',
                download_progress: 42,
              },
              gone: { image: 'x', status: 'Downloading', download_progress: 0 },
            },
          },
          c2: { update_status: 'rejected', services: {} },
        },
      },
    });
  });

  it('a release rolled back after its window: aborted, the failed service says how, the running one is reported too', () => {
    const running = (name: string) => ({
      serviceName: name,
      image: `norm/${name}:1`,
      status: 'Running',
      containerId: `id-${name}`,
      downloadProgress: undefined,
      waitingFor: undefined,
      error: undefined,
    });
    const status = {
      apps: {
        app1: {
          appUuid: 'app1',
          appId: 1,
          name: 'a',
          targetCommit: 'c1',
          currentCommit: 'c1',
          updateStatus: 'done',
          services: { main: running('main'), side: running('side') },
          releaseCheck: {
            failed: {
              commit: 'c2',
              reason: 'service main: its healthcheck reports unhealthy',
              service: 'main',
              cause: 'unhealthy',
              at: 1,
              rolledBackTo: 'c1',
              images: { main: 'Raw/main:2', side: 'Raw/side:2' },
            },
            confirmed: { commit: 'c1', images: { main: 'Raw/main:1', side: 'Raw/side:1' } },
          },
        },
      },
    } as unknown as ReconcileStatus;
    const target = {
      name: 'd',
      config: {},
      apps: {
        app1: {
          releases: {
            c2: { services: { main: { image: 'Raw/main:2' }, side: { image: 'Raw/side:2' } } },
          },
        },
      },
    };
    assert.deepEqual(buildAppsReport(status, target, new Map()), {
      app1: {
        release_uuid: 'c1',
        releases: {
          c2: {
            update_status: 'aborted',
            services: {
              main: { image: 'Raw/main:2', status: 'Unhealthy', download_progress: null },
              side: { image: 'Raw/side:2', status: 'Stopped', download_progress: null },
            },
          },
          c1: {
            update_status: 'done',
            services: {
              main: { image: 'Raw/main:1', status: 'Running', download_progress: null },
              side: { image: 'Raw/side:1', status: 'Running', download_progress: null },
            },
          },
        },
      },
    });
  });
});
