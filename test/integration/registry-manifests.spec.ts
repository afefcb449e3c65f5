/**
 * The manifest client against the real local registries (open and basic-auth) and against hostile HTTP
 * peers on loopback (a token service, oversized and malformed answers): it reads layer sizes and diff
 * ids without downloading the image, and every failure is a clear, typed error.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManifestClient } from '../../src/registry/manifest-client.js';
import { parseReference } from '../../src/registry/reference.js';
import { isBosunError } from '../../src/shared/errors.js';
import type { RegistryAuth } from '../../src/engine/port.js';
import { TEST_IMAGES } from '../support/images.js';
import { authRegistryAuth, requireRegistries } from '../support/registry.js';

function client(auth?: RegistryAuth): ManifestClient {
  return new ManifestClient({
    authFor: () => auth,
    insecure: () => true,
    platform: { os: 'linux', architecture: 'amd64' },
    timeoutMs: 5000,
    now: () => Date.now(),
  });
}

async function rejectsWithCode(p: Promise<unknown>, code: string, text?: RegExp): Promise<void> {
  await assert.rejects(p, (err) => {
    assert.ok(isBosunError(err), String(err));
    assert.equal(err.code, code, err.message);
    if (text !== undefined) assert.match(err.message, text);
    return true;
  });
}

async function serve(
  handler: (req: IncomingMessage, res: ServerResponse, base: string) => void,
): Promise<{ server: Server; host: string }> {
  const server = createServer((req, res) => handler(req, res, `http://${host()}`));
  const host = (): string => `127.0.0.1:${(server.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, host: host() };
}

const DIGEST = (c: string): string => `sha256:${c.repeat(64)}`;

describe('registry manifests (real registries, hostile peers)', function () {
  this.timeout(60_000);
  const servers: Server[] = [];

  before(requireRegistries);
  after(() => {
    for (const s of servers) s.close();
  });

  it('reads the layers and diff ids of a big image without downloading it', async function () {
    const image = await client().imageLayers(TEST_IMAGES.large);
    assert.equal(image.layers.length, 4, 'busybox plus three random layers');
    assert.equal(image.diffIds.length, 4);
    const big = image.layers.filter((l) => l.size > 12 * 1024 * 1024);
    assert.equal(big.length, 3, 'random data does not compress');
    assert.ok(image.diffIds.every((d) => /^sha256:[0-9a-f]{64}$/.test(d)));
  });

  it('uses the pull credentials on a registry that asks for basic auth, and says when they are wrong', async function () {
    const image = await client(authRegistryAuth()).imageLayers(TEST_IMAGES.privateBusybox);
    assert.equal(image.layers.length, 1);
    await rejectsWithCode(
      client(authRegistryAuth('wrong')).imageLayers(TEST_IMAGES.privateBusybox),
      'REGISTRY_AUTH',
    );
    await rejectsWithCode(client().imageLayers(TEST_IMAGES.privateBusybox), 'REGISTRY_AUTH');
  });

  it('names the image and the status for an unknown tag', async function () {
    await rejectsWithCode(
      client().imageLayers(`${TEST_IMAGES.busybox.replace(/:1$/, '')}:no-such-tag`),
      'REGISTRY_MANIFEST_UNAVAILABLE',
      /no-such-tag.*HTTP 404/,
    );
  });

  it('gets a bearer token from the challenge realm (scope and service passed on), picks the platform from an index', async function () {
    const seen: string[] = [];
    const config = JSON.stringify({ rootfs: { type: 'layers', diff_ids: [DIGEST('d')] } });
    const { server, host } = await serve((req, res, base) => {
      seen.push(`${req.url ?? ''} ${req.headers.authorization ?? '-'}`);
      const url = req.url ?? '';
      if (url.startsWith('/token')) {
        assert.equal(req.headers.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
        res.end(JSON.stringify({ token: 'tok', expires_in: 300 }));
      } else if (req.headers.authorization !== 'Bearer tok') {
        res.writeHead(401, {
          'www-authenticate': `Bearer realm="${base}/token",service="reg",scope="repository:app/x:pull"`,
        });
        res.end();
      } else if (url === '/v2/app/x/manifests/1') {
        res.end(
          JSON.stringify({
            manifests: [
              { digest: DIGEST('a'), platform: { os: 'linux', architecture: 'arm64' } },
              { digest: DIGEST('b'), platform: { os: 'linux', architecture: 'amd64' } },
            ],
          }),
        );
      } else if (url === `/v2/app/x/manifests/${DIGEST('b')}`) {
        res.end(
          JSON.stringify({
            config: { digest: DIGEST('c'), size: config.length },
            layers: [{ digest: DIGEST('e'), size: 1234 }],
          }),
        );
      } else if (url === `/v2/app/x/blobs/${DIGEST('c')}`) {
        res.end(config);
      } else {
        res.writeHead(404).end();
      }
    });
    servers.push(server);
    const c = client({ username: 'u', password: 'p', serveraddress: host });
    const image = await c.imageLayers(`${host}/app/x:1`);
    assert.deepEqual(image, {
      layers: [{ digest: DIGEST('e'), size: 1234 }],
      diffIds: [DIGEST('d')],
    });
    assert.ok(
      seen.some((s) => s.startsWith('/token?service=reg&scope=repository%3Aapp%2Fx%3Apull')),
    );
    // The token is kept until it expires: a second read asks the token service no more.
    const tokens = seen.filter((s) => s.startsWith('/token')).length;
    assert.equal(tokens, 1);
    await c.imageLayers(`${host}/app/x:1`);
    assert.equal(seen.filter((s) => s.startsWith('/token')).length, 1);
  });

  it('refuses oversized, malformed and lying answers with errors that say what was wrong', async function () {
    const { server, host } = await serve((req, res) => {
      const url = req.url ?? '';
      if (url.includes('/huge/')) {
        res.write('{"layers":[');
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        const push = (): void => {
          // Stops on its own after 16 MiB; the client must give up long before.
          while (sent < 256 && res.write(chunk)) sent++;
          if (sent < 256) res.once('drain', push);
          else res.end(']}');
        };
        push();
      } else if (url.includes('/garbage/')) res.end('<html>not json');
      else if (url.includes('/negative/'))
        res.end(
          JSON.stringify({
            config: { digest: DIGEST('c') },
            layers: [{ digest: DIGEST('e'), size: -5 }],
          }),
        );
      else if (url.includes('/noconfig/'))
        res.end(JSON.stringify({ layers: [{ digest: DIGEST('e'), size: 5 }] }));
      else res.writeHead(500).end();
    });
    servers.push(server);
    const c = client();
    await rejectsWithCode(
      c.imageLayers(`${host}/huge/x:1`),
      'REGISTRY_MANIFEST_UNAVAILABLE',
      /larger than/,
    );
    await rejectsWithCode(
      c.imageLayers(`${host}/garbage/x:1`),
      'REGISTRY_MANIFEST_UNAVAILABLE',
      /garbage\/x:1/,
    );
    await rejectsWithCode(
      c.imageLayers(`${host}/negative/x:1`),
      'REGISTRY_MANIFEST_UNAVAILABLE',
      /layer 0/,
    );
    await rejectsWithCode(
      c.imageLayers(`${host}/noconfig/x:1`),
      'REGISTRY_MANIFEST_UNAVAILABLE',
      /config/,
    );
    await rejectsWithCode(
      c.imageLayers(`${host}/other/x:1`),
      'REGISTRY_MANIFEST_UNAVAILABLE',
      /HTTP 500/,
    );
  });

  it('parses references as the engine resolves them', function () {
    assert.deepEqual(parseReference('busybox'), {
      registry: 'registry-1.docker.io',
      repository: 'library/busybox',
      reference: 'latest',
    });
    assert.deepEqual(parseReference('127.0.0.1:5050/a/b:2'), {
      registry: '127.0.0.1:5050',
      repository: 'a/b',
      reference: '2',
    });
    assert.deepEqual(parseReference(`registry2.example.com/v2/abc:tag@${DIGEST('f')}`), {
      registry: 'registry2.example.com',
      repository: 'v2/abc',
      reference: DIGEST('f'),
    });
    assert.throws(() => parseReference('Bad/Name'), /names no valid repository/);
    assert.throws(() => parseReference('a@sha256:xyz'), /malformed digest/);
  });
});
