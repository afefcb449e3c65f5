/**
 * In-flight image downloads and their progress: the pull step writes here, the observer and the status
 * read it. In memory on purpose: a pull interrupted by an agent restart simply starts again.
 */
import type { DownloadState } from '../domain/model.js';

export type DownloadListener = (downloads: readonly DownloadState[]) => void;

export class DownloadTracker {
  private readonly active = new Map<string, number | undefined>();
  private readonly listeners = new Set<DownloadListener>();

  start(image: string): void {
    this.active.set(image, undefined);
    this.emit();
  }

  progress(image: string, percent: number | undefined): void {
    const rounded =
      percent === undefined ? undefined : Math.max(0, Math.min(100, Math.floor(percent)));
    if (!this.active.has(image) || this.active.get(image) === rounded) return; // only real changes
    this.active.set(image, rounded);
    this.emit();
  }

  finish(image: string): void {
    if (this.active.delete(image)) this.emit();
  }

  list(): DownloadState[] {
    return [...this.active].map(([image, progress]) => ({ image, progress }));
  }

  onChange(listener: DownloadListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    const snapshot = this.list();
    for (const listener of this.listeners) listener(snapshot);
  }
}
