/**
 * The local test registries started by scripts/ensure-registry.sh (ports and credentials mirrored from
 * there: change both together), plus a way to publish synthetic images straight through the registry
 * HTTP API, without Docker: their layers are pseudo-random but deterministic per seed, so re-publishing
 * costs nothing and the registry does not grow, and no other test's image shares them.
 */
import { createCipheriv, createHash } from 'node:crypto';

export const OPEN_REGISTRY = `127.0.0.1:${process.env['BOSUN_TEST_REGISTRY_PORT'] ?? '5050'}`;
export const AUTH_REGISTRY = `127.0.0.1:${process.env['BOSUN_TEST_AUTH_REGISTRY_PORT'] ?? '5051'}`;
export const REGISTRY_CREDENTIALS = {
  username: process.env['BOSUN_TEST_REGISTRY_USER'] ?? 'bosun',
  password: process.env['BOSUN_TEST_REGISTRY_PASSWORD'] ?? 'bosun-test-password',
} as const;

/** The RegistryAuth the engine port takes, for the auth registry. */
export function authRegistryAuth(password: string = REGISTRY_CREDENTIALS.password) {
  return { username: REGISTRY_CREDENTIALS.username, password, serveraddress: AUTH_REGISTRY };
}

function basicAuth(): string {
  return `Basic ${Buffer.from(`${REGISTRY_CREDENTIALS.username}:${REGISTRY_CREDENTIALS.password}`).toString('base64')}`;
}

/** Throws a loud, actionable error when a registry is not up (never skips). */
export async function requireRegistries(): Promise<void> {
  for (const [registry, expected] of [
    [OPEN_REGISTRY, 200],
    [AUTH_REGISTRY, 401],
  ] as const) {
    let status: number | string;
    try {
      status = (await fetch(`http://${registry}/v2/`, { signal: AbortSignal.timeout(5000) }))
        .status;
    } catch (err) {
      status = String(err);
    }
    if (status !== expected) {
      throw new Error(
        `Test registry not reachable at http://${registry}/v2/ (got ${status}, want ${expected}): run scripts/ensure-registry.sh`,
      );
    }
  }
}

const MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
const CONFIG_V1 = 'application/vnd.docker.container.image.v1+json';
/** Uncompressed layers: random data does not compress, and this keeps the digests independent of zlib. */
const LAYER_TAR = 'application/vnd.docker.image.rootfs.diff.tar';

function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Deterministic pseudo-random bytes (AES-CTR over zeros), fast enough for tens of MiB. */
function pseudoRandom(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

/** A tar archive holding one regular file (ustar header, data padded to 512, two zero blocks). */
function tarWithFile(name: string, data: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string): void => {
    header.write(value, offset, length, 'ascii');
  };
  field(0, 100, name);
  field(100, 8, '0000644\0');
  field(108, 8, '0000000\0');
  field(116, 8, '0000000\0');
  field(124, 12, `${data.length.toString(8).padStart(11, '0')}\0`);
  field(136, 12, '00000000000\0');
  field(148, 8, '        ');
  field(156, 1, '0');
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  let sum = 0;
  for (const byte of header) sum += byte;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  const padding = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([header, data, padding, Buffer.alloc(1024)]);
}

async function pushBlob(
  registry: string,
  repository: string,
  blob: Buffer,
  headers: Record<string, string>,
): Promise<string> {
  const digest = sha256(blob);
  const base = `http://${registry}/v2/${repository}`;
  const head = await fetch(`${base}/blobs/${digest}`, { method: 'HEAD', headers });
  if (head.ok) return digest;
  const start = await fetch(`${base}/blobs/uploads/`, { method: 'POST', headers });
  const location = start.headers.get('location');
  if (start.status !== 202 || location === null)
    throw new Error(`blob upload to ${base} refused: HTTP ${start.status}`);
  const url = new URL(location, `http://${registry}`);
  url.searchParams.set('digest', digest);
  const put = await fetch(url, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/octet-stream' },
    body: blob,
  });
  if (put.status !== 201)
    throw new Error(`blob upload to ${base} failed: HTTP ${put.status} ${await put.text()}`);
  return digest;
}

export interface SyntheticImage {
  registry: string;
  /** e.g. `bosun-test/engine-contract-progress`. */
  repository: string;
  tag: string;
  /** Size in bytes of each layer's file. */
  layerSizes: number[];
  /** Same seed, same layers: choose one per image so no other image shares them. */
  seed: string;
  labels?: Record<string, string>;
}

/**
 * Publishes an image with one file per layer (`/layer-<i>`; not runnable: there is no shell) and
 * returns its reference. Idempotent: blobs the registry has are not sent again.
 */
export async function publishSyntheticImage(image: SyntheticImage): Promise<string> {
  const headers: Record<string, string> =
    image.registry === AUTH_REGISTRY ? { authorization: basicAuth() } : {};
  const layers: Array<{ digest: string; size: number }> = [];
  const diffIds: string[] = [];
  for (const [i, size] of image.layerSizes.entries()) {
    const tar = tarWithFile(`layer-${i}`, pseudoRandom(`${image.seed}:${i}`, size));
    diffIds.push(sha256(tar));
    layers.push({
      digest: await pushBlob(image.registry, image.repository, tar, headers),
      size: tar.length,
    });
  }
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const config = Buffer.from(
    JSON.stringify({
      architecture: arch,
      os: 'linux',
      created: '2024-01-01T00:00:00Z',
      config: { Labels: image.labels ?? {}, Cmd: ['/layer-0'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: diffIds.map(() => ({
        created: '2024-01-01T00:00:00Z',
        created_by: `bosun-test ${image.seed}`,
      })),
    }),
  );
  const configDigest = await pushBlob(image.registry, image.repository, config, headers);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST_V2,
    config: { mediaType: CONFIG_V1, size: config.length, digest: configDigest },
    layers: layers.map((l) => ({ mediaType: LAYER_TAR, size: l.size, digest: l.digest })),
  });
  const put = await fetch(
    `http://${image.registry}/v2/${image.repository}/manifests/${image.tag}`,
    {
      method: 'PUT',
      headers: { ...headers, 'content-type': MANIFEST_V2 },
      body: manifest,
    },
  );
  if (put.status !== 201)
    throw new Error(`manifest push failed: HTTP ${put.status} ${await put.text()}`);
  return `${image.registry}/${image.repository}:${image.tag}`;
}
