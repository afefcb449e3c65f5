/** The words the dashboard and `bosun status` use for the cloud link. */
import assert from 'node:assert/strict';
import { describeCloudConnectivity } from '../../../src/agent/cloud-connectivity-words.js';
import type { CloudConnectivity } from '../../../src/api/agent-api.js';
import { renderStateStatus } from '../../../src/api/render.js';

const hhmm = (ms: number): string => new Date(ms).toISOString().slice(11, 16);
const base: CloudConnectivity = {
  endpoint: 'https://api.example.test/',
  provisioned: true,
  reachable: true,
  lastSuccessfulPollAt: Date.parse('2026-11-29T10:42:00Z'),
  offlineSince: null,
  lastError: null,
  connectivityCheck: 'connected',
};

describe('cloud connectivity in words', () => {
  it('registering, first poll pending, reachable', () => {
    assert.equal(
      describeCloudConnectivity({ ...base, provisioned: false }, hhmm),
      'cloud: https://api.example.test/, registering this device',
    );
    assert.equal(
      describeCloudConnectivity({ ...base, reachable: null, lastSuccessfulPollAt: null }, hhmm),
      'cloud: https://api.example.test/, first poll pending',
    );
    assert.equal(
      describeCloudConnectivity(base, hhmm),
      'cloud: https://api.example.test/, reachable (last successful poll 10:42)',
    );
  });

  it('unreachable: since when, why, and that the stored target keeps running', () => {
    const text = describeCloudConnectivity(
      {
        ...base,
        reachable: false,
        offlineSince: Date.parse('2026-11-29T10:50:00Z'),
        lastError: 'GET /device/v3/<uuid>/state: connect ECONNREFUSED',
        connectivityCheck: 'disconnected',
      },
      hhmm,
    );
    assert.equal(
      text,
      'cloud: https://api.example.test/, unreachable since 10:50 (GET /device/v3/<uuid>/state: connect ECONNREFUSED); its address does not answer; running the stored target (last successful poll 10:42)',
    );
    assert.match(
      describeCloudConnectivity({ ...base, reachable: false, lastSuccessfulPollAt: null }, hhmm),
      /no successful poll since the agent started/,
    );
  });

  it('GET /v2/state/status carries it as ISO times, only when given', () => {
    const view = { applying: false, apps: [], images: [] };
    const scope = { kind: 'global' } as const;
    assert.equal('cloud' in renderStateStatus(view, scope), false);
    const body = renderStateStatus(view, scope, { ...base, reachable: false, offlineSince: 0 });
    assert.deepEqual(body['cloud'], {
      endpoint: 'https://api.example.test/',
      provisioned: true,
      reachable: false,
      lastSuccessfulPoll: '2026-11-29T10:42:00.000Z',
      offlineSince: '1970-01-01T00:00:00.000Z',
      lastError: null,
      connectivityCheck: 'connected',
    });
  });
});
