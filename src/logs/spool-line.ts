/**
 * What one spool row holds: the cloud's wire object of a line (only the fields of
 * docs/protocol.md#log-message-format) and the drop notice, a system line whose text carries the count,
 * so that a notice evicted before it was shipped can hand its count on to the next one.
 */
import type { LogMessage } from './log-message.js';

/** The service key of system lines. */
export const SYSTEM_SERVICE = '';

export function dropNotice(service: string, count: number): string {
  const what = service === SYSTEM_SERVICE ? 'system log' : `service '${service}'`;
  return `Warning: Dropped ${count} line(s) of ${what} because the log spool was full`;
}

const DROP_NOTICE =
  /^Warning: Dropped (\d+) line\(s\) of (?:system log|service '(.*)') because the log spool was full$/s;

export function parseDropNotice(wire: string): { service: string; count: number } | undefined {
  const message = (JSON.parse(wire) as LogMessage).message;
  const match = DROP_NOTICE.exec(message);
  if (match === null) return undefined;
  return { service: match[2] ?? SYSTEM_SERVICE, count: Number(match[1]) };
}

/**
 * Exactly the fields the cloud accepts (docs/protocol.md#log-message-format); serviceName and appUuid stay on
 * the device.
 */
export function wireFields(m: LogMessage): LogMessage {
  return {
    message: m.message,
    timestamp: m.timestamp,
    ...(m.isSystem ? { isSystem: true } : {}),
    ...(m.isStdErr ? { isStdErr: true } : {}),
    ...(m.serviceId === undefined ? {} : { serviceId: m.serviceId }),
  };
}
