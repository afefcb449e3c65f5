/**
 * Image references (docs/protocol.md#image-names): `[registry/]repo[:tag][@digest]`. Normalised form: with a
 * digest, `[registry/]repo@digest` (the digest pins the content, so a tag beside it is dropped); otherwise
 * `[registry/]repo:tag` with `:latest` added when no tag is given.
 */

export interface ImageName {
  /** First path segment when it is `localhost` or contains `.` or `:`; otherwise undefined (Docker Hub). */
  registry: string | undefined;
  /** Repository path without the registry. */
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
// Loose on the hex part: the real openBalena API hands out placeholder digests such as `sha256:0000`.
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const REGISTRY = /^[a-zA-Z0-9.-]+(?::\d+)?$|^\[[0-9a-fA-F:]+\](?::\d+)?$/;

/** Parses a reference; returns a reason when it is not one. */
export function parseImageName(reference: string): ImageName | string {
  if (reference.length === 0) return 'image name is empty';
  let rest = reference;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return `"${digest}" is not a digest (algorithm:hex)`;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return `"${tag}" is not a valid tag`;
  }
  const segments = rest.split('/');
  let registry: string | undefined;
  const first = segments[0]!;
  if (
    segments.length > 1 &&
    (first === 'localhost' || first.includes('.') || first.includes(':'))
  ) {
    registry = first;
    segments.shift();
    if (!REGISTRY.test(registry)) return `"${registry}" is not a registry host[:port]`;
  }
  for (const segment of segments) {
    if (!COMPONENT.test(segment)) {
      return segment.toLowerCase() !== segment
        ? `repository "${segments.join('/')}" must be lowercase`
        : `"${segment}" is not a valid repository path component`;
    }
  }
  return { registry, repository: segments.join('/'), tag, digest };
}

export function formatImageName(name: ImageName): string {
  const repo =
    name.registry === undefined ? name.repository : `${name.registry}/${name.repository}`;
  return name.digest !== undefined ? `${repo}@${name.digest}` : `${repo}:${name.tag ?? 'latest'}`;
}

/** The normalised reference, or a reason when `reference` is not one. */
export function normaliseImageName(reference: string): string | { error: string } {
  const parsed = parseImageName(reference);
  return typeof parsed === 'string' ? { error: parsed } : formatImageName(parsed);
}
