/**
 * The images FakeEngine can pull: an in-memory stand-in for the registries a device talks to.
 * Registries may require credentials, as real ones do; an image's layers have sizes, so pull progress
 * and cancellation half way behave like the real thing.
 */
import { createHash } from 'node:crypto';
import { splitReference, withDefaultTag } from '../../../src/engine/image-reference.js';

export interface FakeImageManifest {
  /** Engine image id after the pull (sha256:…); derived from the reference when not given. */
  id: string;
  /** Layer ids and their download sizes in bytes. */
  layers: Array<{ id: string; size: number }>;
  labels: Record<string, string>;
  /** Registry digest (sha256:…) of the manifest. */
  digest: string;
}

export interface FakeImageInput {
  /** Layer sizes in bytes (default one 1 MiB layer). */
  layerSizes?: number[];
  /** Explicit layer ids, to share layers between images (default: unique per image). */
  layerIds?: string[];
  labels?: Record<string, string>;
  id?: string;
}

/** The registry host of a reference, as the engine decides it (`docker.io` when none is named). */
export function registryHostOf(reference: string): string {
  const first = reference.split('/')[0] ?? '';
  const hasHost =
    reference.includes('/') &&
    (first.includes('.') || first.includes(':') || first === 'localhost');
  return hasHost ? first : 'docker.io';
}

export function fakeDigest(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

export class FakeRegistry {
  private readonly images = new Map<string, FakeImageManifest>();
  private readonly credentials = new Map<string, { username: string; password: string }>();

  /** Makes `reference` pullable (`:latest` when it names no tag). Returns what a pull will produce. */
  add(reference: string, input: FakeImageInput = {}): FakeImageManifest {
    const ref = withDefaultTag(reference);
    const sizes = input.layerSizes ?? [1024 * 1024];
    const manifest: FakeImageManifest = {
      id:
        input.id ??
        fakeDigest(`image:${ref}:${JSON.stringify(sizes)}:${JSON.stringify(input.labels ?? {})}`),
      layers: sizes.map((size, i) => ({
        id: input.layerIds?.[i] ?? fakeDigest(`layer:${ref}:${i}`).slice(7, 19),
        size,
      })),
      labels: { ...(input.labels ?? {}) },
      digest: fakeDigest(`manifest:${ref}`),
    };
    this.images.set(ref, manifest);
    return manifest;
  }

  remove(reference: string): void {
    this.images.delete(withDefaultTag(reference));
  }

  /** From now on `host` answers only to these credentials. */
  requireAuth(host: string, credentials: { username: string; password: string }): void {
    this.credentials.set(host, { ...credentials });
  }

  /** Checks credentials; `ok`, or why the registry refused. */
  authorize(
    reference: string,
    auth: { username: string; password: string } | undefined,
  ): 'ok' | 'missing' | 'wrong' {
    const required = this.credentials.get(registryHostOf(reference));
    if (required === undefined) return 'ok';
    if (auth === undefined) return 'missing';
    return auth.username === required.username && auth.password === required.password
      ? 'ok'
      : 'wrong';
  }

  /** Resolves a tag or a `repo@digest` reference. */
  lookup(reference: string): FakeImageManifest | undefined {
    const ref = withDefaultTag(reference);
    const direct = this.images.get(ref);
    if (direct !== undefined) return direct;
    const { repository, digest } = splitReference(ref);
    if (digest === undefined) return undefined;
    for (const [name, manifest] of this.images) {
      if (manifest.digest === digest && splitReference(name).repository === repository)
        return manifest;
    }
    return undefined;
  }
}
