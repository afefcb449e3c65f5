/**
 * The LogSink port: where captured container lines and system lines go. Implementations: LogRouter
 * (routes to the active backend), LocalLogBackend (fan-out to `/v2/local/logs` clients). The durable
 * cloud shipper of a later issue implements DurableLogBackend and plugs into LogRouter's `cloud` slot.
 */
import type { LogMessage } from './log-message.js';

export interface LogSink {
  /** Never throws and never blocks: a backend that cannot keep up drops and counts, it does not push back. */
  publish(message: LogMessage): void;
}

/**
 * The seam for the cloud log stream (reference §12.2): it must keep what it accepted across reconnects
 * and restarts, so it can say when everything accepted so far has left the device.
 */
export interface DurableLogBackend extends LogSink {
  /** Resolves once every message published before the call is stored durably or delivered. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
