/**
 * The LogSink the rest of bosun publishes to. It truncates once, then sends each message to the backend
 * of the current mode: local mode streams to `/v2/local/logs` clients, otherwise the cloud backend (when
 * one is configured) ships it. Switching mode is a method call, not a global, so main.ts wires it to
 * wherever the local-mode flag lives.
 */
import { truncateMessage, type LogMessage } from './log-message.js';
import type { LogSink } from './log-sink.js';

export interface LogRouterOptions {
  local: LogSink;
  /** Absent until the cloud log shipper exists or while the device is unmanaged: messages are then dropped. */
  cloud?: LogSink;
  localMode: boolean;
}

export class LogRouter implements LogSink {
  private localMode: boolean;

  constructor(private readonly options: LogRouterOptions) {
    this.localMode = options.localMode;
  }

  setLocalMode(on: boolean): void {
    this.localMode = on;
  }

  publish(message: LogMessage): void {
    const capped = truncateMessage(message);
    if (this.localMode) this.options.local.publish(capped);
    else this.options.cloud?.publish(capped);
  }
}
