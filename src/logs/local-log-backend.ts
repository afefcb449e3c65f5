/**
 * The local log backend (reference §12.4): fans every message out to the open `/v2/local/logs` readers.
 * There is no history: a message published while nobody listens is gone, as with balena-supervisor.
 */
import type { LogMessage } from './log-message.js';
import type { LogSink } from './log-sink.js';
import { LogSubscription } from './log-subscription.js';

export interface LocalLogBackendOptions {
  /** Per-reader queue bound; a reader further behind than this loses messages (counted, then reported). */
  maxQueuedBytesPerReader?: number;
  now?: () => number;
}

/** About what the cloud stream buffers (§12.2), per reader. */
const DEFAULT_MAX_QUEUED_BYTES = 256 * 1024;

export class LocalLogBackend implements LogSink {
  private readonly readers = new Set<LogSubscription>();
  private readonly maxQueuedBytes: number;
  private readonly now: () => number;

  constructor(options: LocalLogBackendOptions = {}) {
    this.maxQueuedBytes = options.maxQueuedBytesPerReader ?? DEFAULT_MAX_QUEUED_BYTES;
    this.now = options.now ?? Date.now;
  }

  publish(message: LogMessage): void {
    if (this.readers.size === 0) return;
    // appUuid is for backends that split by app; the local wire carries only the fields of §8.3.
    const { appUuid: _appUuid, ...wire } = message;
    for (const reader of this.readers) reader.offer(wire);
  }

  /** A new reader; close it when the client goes away (that removes it here). */
  subscribe(): LogSubscription {
    const reader = new LogSubscription({
      maxQueuedBytes: this.maxQueuedBytes,
      now: this.now,
      onClose: (r) => this.readers.delete(r),
    });
    this.readers.add(reader);
    return reader;
  }

  get readerCount(): number {
    return this.readers.size;
  }
}
