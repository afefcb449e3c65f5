/**
 * One reader of the local log stream, with a bounded queue between the publisher and a possibly slow
 * client. Publishing never waits: when the queue is full the message is dropped and counted, and the
 * reader gets one system line saying how many it missed (wording of docs/protocol.md#system-log-messages)
 * once it catches up. Lines arrive serialised (the backend serialises each message once for all readers), and
 * the queue is checked before anything else, so a full reader costs a comparison and a counter.
 */
import { toNdjsonLine } from './log-message.js';

export interface LogSubscriptionOptions {
  /** Upper bound on queued NDJSON bytes (UTF-16 code units, close enough for a bound). */
  maxQueuedBytes: number;
  now: () => number;
  onClose: (subscription: LogSubscription) => void;
}

export class LogSubscription {
  private queue: string[] = [];
  private queuedBytes = 0;
  private dropped = 0;
  private droppedTotal = 0;
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(private readonly options: LogSubscriptionOptions) {}

  /** Called by the backend for every message, with its NDJSON line (newline included). */
  offer(line: string): void {
    if (this.closed) return;
    if (this.queuedBytes + line.length > this.options.maxQueuedBytes) {
      this.dropped++;
      this.droppedTotal++;
      return;
    }
    this.queue.push(line);
    this.queuedBytes += line.length;
    this.notify();
  }

  /** Lines dropped over the subscription's life (for tests and metrics). */
  get droppedCount(): number {
    return this.droppedTotal;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Takes everything queued, preceded by the suppression notice when messages were dropped since the
   * last take. Waits while the queue is empty; resolves `undefined` once closed.
   */
  async take(): Promise<string[] | undefined> {
    while (!this.closed && this.queue.length === 0 && this.dropped === 0) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.closed) return undefined;
    const lines = this.queue;
    if (this.dropped > 0) {
      lines.unshift(
        toNdjsonLine({
          message: `Warning: Suppressed ${this.dropped} message(s) due to high load`,
          timestamp: this.options.now(),
          isSystem: true,
          isStdErr: true,
        }),
      );
      this.dropped = 0;
    }
    this.queue = [];
    this.queuedBytes = 0;
    return lines;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.queuedBytes = 0;
    this.notify();
    this.options.onClose(this);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
