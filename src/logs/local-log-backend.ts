/**
 * The local log backend (docs/protocol.md#local-log-stream): fans every message out to the open
 * `/v2/local/logs` readers. There is no history: a message published while nobody listens is gone, as with
 * balena-supervisor.
 *
 * Cost is bounded whatever the readers do: a message is serialised once for all readers, a reader whose
 * queue is full costs a comparison and a counter, the number of readers is bounded (subscribe refuses
 * beyond it), and each reader's queue is bounded in bytes.
 */
import { BosunError } from '../shared/errors.js';
import { toNdjsonLine, type LogMessage } from './log-message.js';
import type { LogSink } from './log-sink.js';
import { LogSubscription } from './log-subscription.js';

export interface LocalLogBackendOptions {
  /** Per-reader queue bound; a reader further behind than this loses messages (counted, then reported). */
  maxQueuedBytesPerReader?: number;
  /** Readers at once; subscribe() throws TOO_MANY_LOG_READERS beyond it. */
  maxReaders?: number;
  now?: () => number;
}

/** Per reader: a few hundred lines of backlog, enough for a burst, small enough for many readers. */
const DEFAULT_MAX_QUEUED_BYTES = 64 * 1024;
const DEFAULT_MAX_READERS = 32;

export class LocalLogBackend implements LogSink {
  private readonly readers = new Set<LogSubscription>();
  private readonly maxQueuedBytes: number;
  private readonly maxReaders: number;
  private readonly now: () => number;

  constructor(options: LocalLogBackendOptions = {}) {
    this.maxQueuedBytes = options.maxQueuedBytesPerReader ?? DEFAULT_MAX_QUEUED_BYTES;
    this.maxReaders = options.maxReaders ?? DEFAULT_MAX_READERS;
    this.now = options.now ?? Date.now;
  }

  publish(message: LogMessage): void {
    if (this.readers.size === 0) return;
    // appUuid is for backends that split by app; the local wire carries only the fields of
    // docs/protocol.md#local-log-stream.
    const { appUuid: _appUuid, ...wire } = message;
    const line = toNdjsonLine(wire); // once, whatever the number of readers
    for (const reader of this.readers) reader.offer(line);
  }

  /**
   * A new reader; close it when the client goes away (that removes it here). Throws
   * TOO_MANY_LOG_READERS when the bound is reached, before anything is allocated for the reader.
   */
  subscribe(): LogSubscription {
    if (this.readers.size >= this.maxReaders) {
      throw new BosunError(
        'TOO_MANY_LOG_READERS',
        `Too many log readers: ${this.readers.size} streams are open, the bound is ${this.maxReaders} (BOSUN_MAX_LOG_READERS); close one or try again later`,
      );
    }
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
