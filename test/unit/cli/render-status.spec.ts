import assert from 'node:assert/strict';
import type { DashboardView } from '../../../src/api/dashboard-types.js';
import { renderStatus } from '../../../src/cli/render-status.js';

describe('bosun status: the dashboard view as text', () => {
  it('prints the device, each service with its words, and the plan', () => {
    const view: DashboardView = {
      device: {
        name: 'pi',
        uuid: 'abc',
        deviceType: 'raspberrypi4-64',
        os: 'balenaOS 6',
        version: '0.1.0',
        mode: 'local',
        connectivity: 'local mode',
        ipAddresses: ['10.0.0.2'],
      },
      summary: 'Waiting: waiting for the update lock held by service db since 10:42.',
      plan: ['Download web.', 'service db: holds the update lock'],
      apps: [
        {
          appId: 1,
          name: 'shop',
          commit: 'deadbeefcafe',
          updateStatus: 'downloaded',
          waiting: 'waiting for the update lock held by service db since 10:42',
          services: [
            {
              name: 'db',
              state: 'Running',
              containerId: '0123456789abcdef',
              image: 'db',
              health: 'healthy',
              restartCount: 1,
              downloadProgress: undefined,
              waiting: undefined,
              error: undefined,
            },
            {
              name: 'web',
              state: 'Downloading',
              containerId: undefined,
              image: 'web',
              health: 'none',
              restartCount: 0,
              downloadProgress: 43,
              waiting: 'downloading 43%',
              error: undefined,
            },
          ],
        },
      ],
      at: '2026-01-01T00:00:00.000Z',
    };
    assert.equal(
      renderStatus(view),
      [
        'pi · local mode · bosun 0.1.0',
        'Waiting: waiting for the update lock held by service db since 10:42.',
        '  uuid abc · raspberrypi4-64 · balenaOS 6',
        '  connectivity: local mode',
        '  addresses: 10.0.0.2',
        '',
        'shop (downloaded · deadbee)',
        '  waiting for the update lock held by service db since 10:42',
        '  db    Running     container 0123456789ab · healthy · 1 restart',
        '  web   Downloading no container · 0 restarts',
        '        downloading 43%',
        '',
        'Current plan:',
        '  1. Download web.',
        '  2. service db: holds the update lock',
        '',
      ].join('\n'),
    );
  });
});
