/**
 * Where an image reference's manifest lives: the registry host, the repository path on it and the tag or
 * digest to ask for. Docker Hub's short names (`busybox`, `user/app`) live on registry-1.docker.io, with
 * `library/` for official images, as the engine resolves them.
 */
import { BosunError } from '../shared/errors.js';

export interface ParsedReference {
  /** `host[:port]` */
  registry: string;
  repository: string;
  /** The digest when the reference names one (it wins over a tag), else the tag (`latest` by default). */
  reference: string;
}

const DOCKER_HUB = 'registry-1.docker.io';
const REPOSITORY =
  /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

export function parseReference(image: string): ParsedReference {
  const bad = (why: string): BosunError =>
    new BosunError('VALIDATION_FAILED', `image reference '${image.slice(0, 300)}' ${why}`);
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad('has a malformed digest');
  }
  let tag: string | undefined;
  const colon = rest.indexOf(':', rest.lastIndexOf('/') + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad('has a malformed tag');
  }
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  const hasHost = first.includes('.') || first.includes(':') || first === 'localhost';
  const registry = hasHost ? first : DOCKER_HUB;
  let repository = hasHost ? rest.slice(slash + 1) : rest;
  if (!hasHost && !repository.includes('/')) repository = `library/${repository}`;
  if (!REPOSITORY.test(repository)) throw bad('names no valid repository');
  return { registry, repository, reference: digest ?? tag ?? 'latest' };
}
