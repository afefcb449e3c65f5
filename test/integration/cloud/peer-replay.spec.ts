/**
 * The cloud peer follows the real API: every recorded openBalena v49 device exchange
 * (test/fixtures/cloud/openbalena-v49-exchanges.json, copied unchanged from the shared fixtures) is replayed in
 * order against a fresh peer seeded like the recorded fleet, and the peer must answer with the same status,
 * the same body, and the same shape of headers (Content-Type, ETag, Vary, chunked empty answers).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { startCloudPeer, type CloudPeer } from '../../support/cloud-peer/index.js';
import { rawRequest } from '../../support/cloud-peer/raw-request.js';

interface Exchange {
  name: string;
  request: {
    method: string;
    path: string;
    headers: Record<string, string>;
    body: unknown;
    bodyEncoding?: string;
    transfer?: string;
  };
  response: { status: number; headers: Record<string, string>; body: unknown };
}

const FIXTURES = new URL('../../fixtures/cloud/', import.meta.url);
const exchanges = JSON.parse(
  readFileSync(new URL('openbalena-v49-exchanges.json', FIXTURES), 'utf8'),
) as Exchange[];
type RecordedState = Record<
  string,
  {
    apps: Record<
      string,
      { releases: Record<string, { services: Record<string, Record<string, unknown>> }> }
    >;
  }
>;
/** The fleet as the recording saw it: the body of the first target state GET. */
const recordedTarget = exchanges.find((e) => e.name === 'state-get-200')?.response
  .body as RecordedState;

/** The log stream and the batch log upload belong to the log-stream route (test/support/cloud-peer/log-stream.ts). */
const LOG_ROUTES = /^(logstream-|logs-batch-|user-read-logs$)/;
/** Reads of a user's whole device or image-install rows: ids and dozens of timestamps the peer does not keep. */
const NOT_MODELLED = new Set([
  'user-read-device-after-register',
  'user-read-device-after-first-report',
  'user-read-device-after-metrics',
  'user-read-device-final',
  'user-read-image-installs',
]);

// Secrets in the recording are placeholders; the real keys were 32 characters, so are these.
const SECRETS: Record<string, string> = {
  '<deviceApiKey>': 'd'.repeat(32),
  '<deviceApiKey2>': 'e'.repeat(32),
  '<provisioningKey>': 'p'.repeat(32),
  '<userToken>': 'u'.repeat(32),
  '<apiSecret>': 's'.repeat(32),
};

function fill(text: string): string {
  let out = text;
  for (const [placeholder, value] of Object.entries(SECRETS))
    out = out.split(placeholder).join(value);
  return out;
}

/** Timestamps and ids the server assigns are compared by presence only. */
function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (/(_at|_date|_event)$/.test(key) && v !== null) out[key] = '<time>';
      else if (key === 'id' && typeof v === 'number') out[key] = '<id>';
      else out[key] = normalise(v);
    }
    return out;
  }
  return value;
}

function header(headers: Record<string, string>, name: string): string | undefined {
  const found = Object.entries(headers).find(([k]) => k.toLowerCase() === name);
  return found?.[1];
}

describe('cloud peer: replay of the recorded openBalena v49 exchanges', function () {
  let peer: CloudPeer;
  const fleetUuid = Object.keys(Object.values(recordedTarget)[0]?.apps ?? {})[0] ?? '';

  before(async function () {
    const device = Object.values(recordedTarget)[0];
    const app = device?.apps[fleetUuid];
    const [commit, release] = Object.entries(app?.releases ?? {})[0] ?? [];
    assert.ok(commit !== undefined && release !== undefined, 'fixture has a release');
    peer = await startCloudPeer({
      protocol: 'http',
      provisioningKey: SECRETS['<provisioningKey>'],
      userToken: SECRETS['<userToken>'],
      fleet: {
        id: 1,
        uuid: fleetUuid,
        name: 'testfleet',
        env: { FLEET_VAR: 'hello' },
        config: { RESIN_SUPERVISOR_POLL_INTERVAL: '600000' },
      },
      deviceTypes: ['generic-amd64'],
    });
    const services: Record<string, never> = {};
    for (const [name, service] of Object.entries(release.services)) {
      const { environment: _fleetMerged, ...rest } = service;
      (services as Record<string, unknown>)[name] = { ...rest, environment: {} };
    }
    peer.setRelease({ id: 1, commit, services });
  });
  after(async () => peer.close());

  const replayed = exchanges.filter((e) => !LOG_ROUTES.test(e.name) && !NOT_MODELLED.has(e.name));

  it('covers every recorded exchange that is not the log routes or an unmodelled user read', function () {
    assert.equal(exchanges.length, 63);
    assert.equal(replayed.length, 63 - 10 - NOT_MODELLED.size);
  });

  for (const exchange of replayed) {
    it(`${exchange.name}: ${exchange.request.method} ${exchange.request.path.slice(0, 60)} → ${exchange.response.status}`, async function () {
      const { request, response } = exchange;
      // As the recording's client: a keep-alive connection (so the server says `Keep-Alive: timeout=5`).
      const headers: Record<string, string> = { Connection: 'keep-alive' };
      for (const [name, value] of Object.entries(request.headers))
        if (!/^(host|content-length|transfer-encoding)$/i.test(name)) headers[name] = fill(value);
      let body: Buffer | undefined;
      if (request.body !== null && request.body !== undefined) {
        body = Buffer.from(
          fill(typeof request.body === 'string' ? request.body : JSON.stringify(request.body)),
        );
        if (request.bodyEncoding !== undefined) body = gzipSync(body);
      }
      const answer = await rawRequest(peer.url, {
        method: request.method,
        path: request.path,
        headers,
        body,
      });

      assert.equal(answer.status, response.status, 'status');
      const recordedBody = response.body;
      const text = answer.body.toString('utf8');
      if (recordedBody === '') assert.equal(text, '', 'empty body');
      else if (/^text\/html/.test(header(response.headers, 'content-type') ?? ''))
        assert.equal(text, recordedBody, 'text body');
      else {
        const expected = normalise(JSON.parse(fill(JSON.stringify(recordedBody))));
        assert.deepEqual(normalise(JSON.parse(text)), expected, 'body');
      }
      const contentType = header(response.headers, 'content-type');
      assert.equal(answer.headers['content-type'], contentType, 'Content-Type');
      assert.equal(answer.headers['vary'], header(response.headers, 'vary'), 'Vary');
      const chunked = header(response.headers, 'transfer-encoding');
      assert.equal(answer.headers['transfer-encoding'], chunked, 'Transfer-Encoding');
      const etag = header(response.headers, 'etag');
      if (etag === undefined) assert.equal(answer.headers['etag'], undefined, 'no ETag');
      else if (/<\w+>|_at"|_date"|_event":"|"id"/.test(JSON.stringify(recordedBody)))
        // Bodies with secrets or server-assigned values: the same length prefix (same sizes), not the same hash.
        assert.match(
          String(answer.headers['etag']),
          /^W\/"[0-9a-f]+-[A-Za-z0-9+/]{27}"$/,
          'ETag form',
        );
      else assert.equal(answer.headers['etag'], etag, 'ETag');
      if (header(response.headers, 'location') !== undefined)
        assert.match(
          String(answer.headers['location']),
          /^\/v7\/device_(config|environment)_variable\(@id\)\?@id=\d+$/,
        );
      assert.equal(answer.headers['keep-alive'], 'timeout=5');
    });
  }

  it('stored what the recorded API stored: heartbeat, running release, image installs, throttled metrics, tags', function () {
    const device = [...peer.model.devices.values()][0];
    assert.ok(device);
    assert.equal(device.apiHeartbeatState, 'online');
    assert.equal(device.runningRelease[fleetUuid], 'a1b2c3d4e5f60718293a4b5c6d7e8f90');
    assert.deepEqual(device.imageInstalls['a1b2c3d4e5f60718293a4b5c6d7e8f90/main'], {
      status: 'Running',
      download_progress: null,
    });
    // The second metrics report came right after the first: not stored.
    assert.equal(device.fields['cpu_usage'], 12);
    assert.equal(device.fields['ip_address'], '192.168.1.51');
    assert.deepEqual(device.tags, { location: 'lab', rack: '7' });
    assert.ok(
      device.keys.has(SECRETS['<deviceApiKey2>'] ?? ''),
      'the user-added key works for the device',
    );
  });
});
