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
 * Bytes removing each image gives back: its size when no other image shares any of its layers, else 0
 * (the engine keeps shared layers, and which part of the size they are is not known without per-layer
 * sizes: counting nothing keeps the preflight on the safe side).
 */
export function reclaimableBytes(
  images: readonly { id: string; size: number; layers: readonly string[] }[],
): Record<string, number> {
  const users = new Map<string, number>();
  for (const image of images)
    for (const layer of new Set(image.layers)) users.set(layer, (users.get(layer) ?? 0) + 1);
  const out: Record<string, number> = {};
  for (const image of images) {
    const shared = image.layers.some((layer) => (users.get(layer) ?? 0) > 1);
    out[image.id] = shared || image.layers.length === 0 ? 0 : Math.max(0, image.size);
  }
  return out;
}
