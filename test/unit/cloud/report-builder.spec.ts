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
});
