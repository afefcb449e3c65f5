/**
 * Folds the engine's pull messages (`{status, id, progressDetail: {current, total}}`, one per line)
 * into per-layer progress and one percentage. Pure: fed by DockerEngine and by FakeEngine alike.
 *
 * Download bytes only: extraction reports its own current/total per layer, which would count a layer
 * twice. A layer's size becomes known only when its download starts, so the raw ratio can fall when a
 * new layer appears; `percent` is therefore kept non-decreasing, and held below 100 until the pull has
 * really finished (the image exists only after every layer is extracted).
 */
import type { PullProgress } from './port.js';

/** Statuses after which a layer's bytes are all here. */
const LAYER_DOWNLOADED = new Set([
  'Verifying Checksum',
  'Download complete',
  'Extracting',
  'Pull complete',
]);
/** The engine already has the layer: nothing to download, so it does not weigh in the percentage. */
const LAYER_PRESENT = new Set(['Already exists']);

export interface PullMessage {
  status?: unknown;
  id?: unknown;
  progressDetail?: unknown;
}

export class PullProgressTracker {
  private readonly layers = new Map<string, { status: string; current: number; total: number }>();
  private percent: number | undefined;

  constructor(private readonly image: string) {}

  /** Applies one message; returns the new progress, or undefined when the message was not about a layer. */
  update(message: PullMessage): PullProgress | undefined {
    const { status, id } = message;
    if (typeof status !== 'string' || typeof id !== 'string' || !isLayerStatus(status))
      return undefined;
    const layer = this.layers.get(id) ?? { status, current: 0, total: 0 };
    layer.status = status;
    const detail = message.progressDetail as { current?: unknown; total?: unknown } | undefined;
    if (status === 'Downloading' && typeof detail?.current === 'number') {
      layer.current = detail.current;
      if (typeof detail.total === 'number' && detail.total > 0) layer.total = detail.total;
    } else if (LAYER_DOWNLOADED.has(status)) {
      layer.current = layer.total;
    }
    this.layers.set(id, layer);
    return this.snapshot(false);
  }

  /** The pull finished: every layer is done, 100%. */
  complete(): PullProgress {
    for (const layer of this.layers.values()) layer.current = layer.total;
    return this.snapshot(true);
  }

  private snapshot(done: boolean): PullProgress {
    let downloadedBytes = 0;
    let totalBytes = 0;
    for (const layer of this.layers.values()) {
      downloadedBytes += Math.min(layer.current, layer.total);
      totalBytes += layer.total;
    }
    if (done) {
      this.percent = 100;
    } else if (totalBytes > 0) {
      const raw = Math.min(99, Math.floor((downloadedBytes / totalBytes) * 100));
      this.percent = Math.max(this.percent ?? 0, raw);
    }
    const layers: PullProgress['layers'] = {};
    for (const [id, layer] of this.layers) layers[id] = { ...layer };
    return { image: this.image, layers, downloadedBytes, totalBytes, percent: this.percent };
  }
}

function isLayerStatus(status: string): boolean {
  return (
    status === 'Pulling fs layer' ||
    status === 'Waiting' ||
    status === 'Downloading' ||
    status.startsWith('Retrying') ||
    LAYER_DOWNLOADED.has(status) ||
    LAYER_PRESENT.has(status)
  );
}
