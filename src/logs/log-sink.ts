/**
 * The LogSink port: where captured container lines and system lines go. Implementations: LogSpool (the
 * durable spool every consumer reads from: the cloud shipper, `/v2/local/logs`, read-back) and
 * LocalLogBackend (fan-out to `/v2/local/logs` clients, fed from the spool's commits).
 */
import type { LogMessage } from './log-message.js';

export interface LogSink {
  /** Never throws and never blocks: a backend that cannot keep up drops and counts, it does not push back. */
  publish(message: LogMessage): void;
}
