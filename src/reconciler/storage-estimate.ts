/**
 * How many bytes a download needs on the engine's disk, from what the registry says about the image.
 *
 * The manifest gives each layer's compressed size only; on disk the engine keeps the layer extracted
 * (overlay2: the compressed blob sits in a temporary file while it is extracted, then goes; the
 * containerd image store keeps both). Extracted layers of typical images (binaries, libraries, text) are
 * 2-3 times their gzip size; random or already compressed data about 1 time. The estimate counts each
 * missing layer's compressed size 3 times (extracted ~2×, plus the compressed copy while it lands): it
 * errs towards keeping room for ordinary images and overestimates incompressible ones by about half.
 * Reading the gzip trailer of each layer (its uncompressed size) would be exact; see the README.
 *
 * Layers the engine already has (the config's `rootfs.diff_ids` against local images' `RootFS.Layers`)
 * cost nothing. When the manifest and the config disagree on the number of layers, every layer counts.
 */

/** Bytes of disk counted per compressed byte of a missing layer. */
export const DISK_BYTES_PER_COMPRESSED_BYTE = 3;

export interface RegistryLayers {
  layers: readonly { digest: string; size: number }[];
  diffIds: readonly string[];
}

export function estimateDownloadBytes(image: RegistryLayers, present: ReadonlySet<string>): number {
  const aligned = image.diffIds.length === image.layers.length;
  const seen = new Set<string>();
  let compressed = 0;
  image.layers.forEach((layer, i) => {
    const diffId = aligned ? image.diffIds[i] : undefined;
    if (diffId !== undefined && present.has(diffId)) return;
    // A layer listed twice in one image is stored once.
    const key = diffId ?? layer.digest;
    if (seen.has(key)) return;
    seen.add(key);
    compressed += layer.size;
  });
  return compressed * DISK_BYTES_PER_COMPRESSED_BYTE;
}

/**
 * Bytes removing each image gives back, at least: its size less the sizes of every other image sharing a
 * layer with it (the engine keeps shared layers; without per-layer sizes, a sharing image's whole size
 * bounds what it shares). An image built on another one's base thus counts its own layers; one sharing
 * with a bigger image counts nothing. Errs towards keeping room.
 */
export function reclaimableBytes(
  images: readonly { id: string; size: number; layers: readonly string[] }[],
): Record<string, number> {
  const owners = new Map<string, string[]>();
  for (const image of images)
    for (const layer of new Set(image.layers))
      owners.set(layer, [...(owners.get(layer) ?? []), image.id]);
  const sizes = new Map(images.map((i) => [i.id, Math.max(0, i.size)]));
  const out: Record<string, number> = {};
  for (const image of images) {
    const sharers = new Set<string>();
    for (const layer of image.layers)
      for (const id of owners.get(layer) ?? []) if (id !== image.id) sharers.add(id);
    const shared = [...sharers].reduce((sum, id) => sum + (sizes.get(id) ?? 0), 0);
    out[image.id] =
      image.layers.length === 0 ? 0 : Math.max(0, (sizes.get(image.id) ?? 0) - shared);
  }
  return out;
}
