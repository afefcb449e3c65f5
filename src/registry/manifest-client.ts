/**
 * Reads what an image is made of from its registry (Docker Registry HTTP API v2 / OCI distribution),
 * without downloading it: the manifest (the platform's one from a list/index), its compressed layer sizes
 * and, from the config blob, the layers' diff ids (what the engine lists as an image's `RootFS.Layers`).
 * The disk preflight uses it to know what a download will need before it starts.
 *
 * Every answer is hostile until parsed: each request is bounded in time and size, answers are checked
 * field by field, and errors name the image and what was wrong (REGISTRY_MANIFEST_UNAVAILABLE, or
 * REGISTRY_AUTH when the registry refuses the credentials). Credentials are those the pull uses
 * (executor/registry-auth.ts); they go to a token service only over https, or over http when the
 * registry itself is reached over http.
 */
import type { RegistryAuth } from '../engine/port.js';
import { BosunError, errorMessage, isBosunError } from '../shared/errors.js';
import { parseReference, type ParsedReference } from './reference.js';

export interface RegistryImage {
  /** Compressed layer blobs as the registry stores them, base first. */
  layers: { digest: string; size: number }[];
  /** Uncompressed layer digests (config `rootfs.diff_ids`), base first. */
  diffIds: string[];
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string | undefined;
}

export interface ManifestClientOptions {
  authFor: (image: string) => RegistryAuth | undefined;
  /** Whether the engine reaches this registry (`host[:port]`) over plain HTTP. */
  insecure: (registry: string) => boolean;
  platform: Platform;
  /** Bound of each HTTP request. */
  timeoutMs: number;
  /** Epoch ms, for token expiry. */
  now: () => number;
  fetch?: typeof fetch;
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');
/** Manifests and configs are small; anything bigger is not what we asked for. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const MAX_LAYERS = 1000;

export class ManifestClient {
  private readonly fetch: typeof fetch;
  /** Bearer tokens by `registry/repository`, with their expiry (epoch ms). */
  private readonly tokens = new Map<string, { token: string; until: number }>();

  constructor(private readonly options: ManifestClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async imageLayers(image: string): Promise<RegistryImage> {
    try {
      const ref = parseReference(image);
      let manifest = await this.getJson(image, ref, `manifests/${ref.reference}`, MANIFEST_TYPES);
      if (Array.isArray(manifest['manifests'])) {
        const digest = pickPlatform(manifest['manifests'], this.options.platform);
        if (digest === undefined)
          throw unavailable(image, `it has no manifest for ${platformName(this.options.platform)}`);
        manifest = await this.getJson(image, ref, `manifests/${digest}`, MANIFEST_TYPES);
      }
      const layers = parseLayers(image, manifest['layers']);
      const configDigest = descriptorDigest(manifest['config']);
      if (configDigest === undefined) throw unavailable(image, 'its manifest has no config digest');
      const config = await this.getJson(image, ref, `blobs/${configDigest}`, '*/*');
      const rootfs = config['rootfs'];
      const diffIds = isObject(rootfs) ? rootfs['diff_ids'] : undefined;
      if (!Array.isArray(diffIds) || !diffIds.every((d) => typeof d === 'string'))
        throw unavailable(image, 'its config has no rootfs.diff_ids list');
      return { layers, diffIds };
    } catch (err) {
      if (isBosunError(err)) throw err;
      throw unavailable(image, errorMessage(err), err);
    }
  }

  private async getJson(
    image: string,
    ref: ParsedReference,
    path: string,
    accept: string,
  ): Promise<Record<string, unknown>> {
    const scheme = this.options.insecure(ref.registry) ? 'http' : 'https';
    const url = `${scheme}://${ref.registry}/v2/${ref.repository}/${path}`;
    const key = `${ref.registry}/${ref.repository}`;
    const headers: Record<string, string> = { Accept: accept };
    const cached = this.tokens.get(key);
    if (cached !== undefined && cached.until > this.options.now())
      headers['Authorization'] = `Bearer ${cached.token}`;
    let response = await this.request(url, headers);
    if (response.status === 401) {
      await response.body?.cancel();
      headers['Authorization'] = await this.authorize(image, ref, scheme, response);
      response = await this.request(url, headers);
      if (response.status === 401 || response.status === 403) {
        await response.body?.cancel();
        throw new BosunError(
          'REGISTRY_AUTH',
          `registry ${ref.registry} refused the credentials for ${image}`,
        );
      }
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw unavailable(image, `GET ${path} answered HTTP ${response.status}`);
    }
    const text = await boundedText(response, MAX_BODY_BYTES);
    const parsed: unknown = JSON.parse(text);
    if (!isObject(parsed)) throw unavailable(image, `GET ${path} did not answer a JSON object`);
    return parsed;
  }

  private request(url: string, headers: Record<string, string>): Promise<Response> {
    return this.fetch(url, {
      headers,
      redirect: 'follow',
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
  }

  /** The Authorization header the registry's challenge asks for (Basic, or a Bearer token). */
  private async authorize(
    image: string,
    ref: ParsedReference,
    scheme: string,
    challenge: Response,
  ): Promise<string> {
    const auth = this.options.authFor(image);
    const basic =
      auth === undefined
        ? undefined
        : `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    const header = challenge.headers.get('www-authenticate') ?? '';
    if (/^basic\b/i.test(header)) {
      if (basic === undefined)
        throw new BosunError(
          'REGISTRY_AUTH',
          `registry ${ref.registry} wants credentials for ${image}`,
        );
      return basic;
    }
    const params = challengeParams(header);
    const realm = params['realm'];
    if (!/^bearer\b/i.test(header) || realm === undefined)
      throw unavailable(
        image,
        `the registry's challenge is not understood: ${header.slice(0, 200)}`,
      );
    const realmUrl = new URL(realm);
    if (realmUrl.protocol !== 'https:' && !(realmUrl.protocol === 'http:' && scheme === 'http'))
      throw unavailable(image, `the token service ${realmUrl.origin} is not https`);
    if (params['service'] !== undefined) realmUrl.searchParams.set('service', params['service']);
    realmUrl.searchParams.set('scope', params['scope'] ?? `repository:${ref.repository}:pull`);
    const response = await this.fetch(realmUrl, {
      headers: basic === undefined ? {} : { Authorization: basic },
      redirect: 'error',
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new BosunError(
        'REGISTRY_AUTH',
        `the token service refused the credentials for ${image}`,
      );
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw unavailable(image, `the token service answered HTTP ${response.status}`);
    }
    const body: unknown = JSON.parse(await boundedText(response, 64 * 1024));
    const token = isObject(body) ? (body['token'] ?? body['access_token']) : undefined;
    if (typeof token !== 'string' || token === '')
      throw unavailable(image, 'the token service answered no token');
    const expiresIn = isObject(body) ? body['expires_in'] : undefined;
    const seconds = typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : 60;
    // Renewed a little early: a token that expires mid-request costs a failed round.
    this.tokens.set(`${ref.registry}/${ref.repository}`, {
      token,
      until: this.options.now() + Math.max(0, seconds - 10) * 1000,
    });
    return `Bearer ${token}`;
  }
}

function unavailable(image: string, why: string, cause?: unknown): BosunError {
  return new BosunError(
    'REGISTRY_MANIFEST_UNAVAILABLE',
    `cannot read the manifest of ${image}: ${why}`,
    cause === undefined ? undefined : { cause },
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function descriptorDigest(value: unknown): string | undefined {
  const digest = isObject(value) ? value['digest'] : undefined;
  return typeof digest === 'string' && /^[a-z0-9]+:[a-f0-9]{32,128}$/.test(digest)
    ? digest
    : undefined;
}

function parseLayers(image: string, value: unknown): RegistryImage['layers'] {
  if (!Array.isArray(value)) throw unavailable(image, 'its manifest has no layers list');
  if (value.length > MAX_LAYERS)
    throw unavailable(image, `its manifest lists ${value.length} layers (at most ${MAX_LAYERS})`);
  return value.map((layer, i) => {
    const digest = descriptorDigest(layer);
    const size = isObject(layer) ? layer['size'] : undefined;
    if (digest === undefined || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
      throw unavailable(image, `layer ${i} of its manifest has no valid digest and size`);
    return { digest, size };
  });
}

/** The digest of the list entry for the platform (its variant too when both name one). */
function pickPlatform(entries: unknown[], want: Platform): string | undefined {
  const matches = entries.filter((e) => {
    const p = isObject(e) ? e['platform'] : undefined;
    return isObject(p) && p['os'] === want.os && p['architecture'] === want.architecture;
  });
  const variant = matches.find((e) => {
    const p = isObject(e) ? e['platform'] : undefined;
    return isObject(p) && want.variant !== undefined && p['variant'] === want.variant;
  });
  return descriptorDigest(variant ?? matches[0]);
}

function platformName(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant === undefined ? '' : `/${p.variant}`}`;
}

/** `Bearer realm="…",service="…",scope="…"` → its parameters. */
function challengeParams(header: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const match of header.matchAll(/(\w+)="([^"]*)"/g))
    params[(match[1] as string).toLowerCase()] = match[2] as string;
  return params;
}

/** The body as text, refusing one longer than `limit` bytes (read in chunks, never whole first). */
async function boundedText(response: Response, limit: number): Promise<string> {
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  // Leaving the loop early cancels the stream: the rest is never read.
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > limit) throw new Error(`the answer is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
