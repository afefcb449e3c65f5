/**
 * The one bit of image-reference syntax the engine adapters need: the engine pulls *every* tag of a
 * repository when asked for a reference without tag or digest, so we always name one.
 */

/** `repo` → `repo:latest`; references with a tag or a digest are returned unchanged. */
export function withDefaultTag(reference: string): string {
  if (reference.includes('@')) return reference;
  const lastSlash = reference.lastIndexOf('/');
  // A colon before the last slash is a registry port (`127.0.0.1:5050/app`), not a tag.
  return reference.indexOf(':', lastSlash + 1) === -1 ? `${reference}:latest` : reference;
}

/** Splits `repo:tag` / `repo@digest` into the repository and the rest (for matching RepoTags). */
export function splitReference(reference: string): {
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
} {
  const at = reference.indexOf('@');
  if (at !== -1)
    return { repository: reference.slice(0, at), tag: undefined, digest: reference.slice(at + 1) };
  const lastSlash = reference.lastIndexOf('/');
  const colon = reference.indexOf(':', lastSlash + 1);
  if (colon === -1) return { repository: reference, tag: undefined, digest: undefined };
  return {
    repository: reference.slice(0, colon),
    tag: reference.slice(colon + 1),
    digest: undefined,
  };
}
