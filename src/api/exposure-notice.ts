/**
 * The start-up line that says what the local API exposes, and to whom. In local mode anyone who can reach
 * the port can run any container (root on the device), so the operator must be able to see that from the
 * log alone, along with the guards that stay on (docs/security.md).
 */
import type { Logger } from '../shared/logger.js';

export interface ExposureFacts {
  localMode: boolean;
  host: string;
  port: number;
}

export function logApiExposure(logger: Logger, facts: ExposureFacts): void {
  const where = `${facts.host}:${facts.port}`;
  const everyInterface = facts.host === '0.0.0.0' || facts.host === '::';
  if (facts.localMode) {
    logger.warn('api.local-mode-open', {
      listen: where,
      everyInterface,
      message:
        `Local mode is ON: the whole local API on ${where} answers without an API key to anyone who can reach ` +
        `it${everyInterface ? ' (every network interface)' : ''}, including POST /v2/local/target-state, ` +
        'which runs any container (root on this device). Browser requests from other web origins, foreign ' +
        'Host names (DNS rebinding) and non-JSON bodies are refused. Turn local mode off for a device on an ' +
        'untrusted network.',
    });
    return;
  }
  logger.info('api.key-required', {
    listen: where,
    message: `Local mode is off: every route of the local API on ${where} except /ping and /v1/healthy needs an API key.`,
  });
}
