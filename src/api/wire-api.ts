/**
 * The local API's wiring: the Express app over the agent facade, listening, with the connection
 * inactivity timeout (on the early server src/start.ts opened when there is one), and the notice of
 * who can reach it.
 */
import type { Server } from 'node:http';
import type { AgentApi } from './agent-api.js';
import { createApi, type ApiOptions } from './app.js';
import type { EarlyApi } from './early-ping.js';
import { logApiExposure } from './exposure-notice.js';
import { openApiServer } from './open-server.js';

/** balena-supervisor's default for config.json apiTimeout (15 minutes). */
export const DEFAULT_API_SOCKET_TIMEOUT_MS = 900_000;

export interface WireApiOptions extends ApiOptions {
  port: number;
  host: string;
  /** Inactivity timeout of an API connection (config.json apiTimeout). */
  socketTimeoutMs?: number | undefined;
  /** The server src/start.ts opened early (already answering `/ping`), handed the app when it fits. */
  early?: EarlyApi | undefined;
}

export async function wireApi(
  agent: AgentApi,
  options: WireApiOptions,
): Promise<{ server: Server; port: number }> {
  const { port: wanted, host, socketTimeoutMs, early, ...apiOptions } = options;
  const app = createApi(agent, apiOptions);
  const timeout = socketTimeoutMs ?? DEFAULT_API_SOCKET_TIMEOUT_MS;
  const server: Server = await openApiServer(app, { host, port: wanted }, early, timeout);
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : wanted;
  const log = options.logger.child({ component: 'main' });
  log.info('api.listening', { host, port });
  logApiExposure(log, { localMode: agent.isLocalMode(), host, port });
  return { server, port };
}
