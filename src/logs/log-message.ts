/**
 * A log message as every backend receives it: a container line (with the service it came from) or a
 * system line (bosun's own account of what it did). Field names are the wire names of the cloud log
 * stream and of `/v2/local/logs` (docs/protocol.md#log-message-format), so backends serialise them as they
 * are.
 */
export interface LogMessage {
  message: string;
  /** Milliseconds since the epoch. */
  timestamp: number;
  isStdErr?: boolean;
  isSystem?: boolean;
  serviceId?: number;
  serviceName?: string;
  appUuid?: string;
}

export const MAX_MESSAGE_LENGTH = 10_000;
const TRUNCATION_MARK = '[...]';

/** Caps the message at MAX_MESSAGE_LENGTH characters, the mark included, so no backend ever sees more. */
export function truncateMessage(message: LogMessage): LogMessage {
  if (message.message.length <= MAX_MESSAGE_LENGTH) return message;
  return {
    ...message,
    message:
      message.message.slice(0, MAX_MESSAGE_LENGTH - TRUNCATION_MARK.length) + TRUNCATION_MARK,
  };
}

/** One NDJSON line, newline included. */
export function toNdjsonLine(message: LogMessage): string {
  return JSON.stringify(message) + '\n';
}
