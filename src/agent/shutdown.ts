/**
 * Graceful stop on SIGTERM/SIGINT within a budget (the engine's stop timeout for our container): the
 * API stops taking connections, every subsystem stops at once, the store closes last (nothing writes
 * after it), and the process exits 0; past the budget, or on a failure, it exits 1.
 */
import type { Server } from 'node:http';
import type { Logger } from '../shared/logger.js';

export interface ShutdownDeps {
  log: Logger;
  budgetMs: number;
  server: Server;
  /** Each subsystem's stop (reconciler, logs, cloud, mDNS, engine connection…). */
  stops: ReadonlyArray<() => Promise<unknown> | undefined>;
  /** After every stop settled: the store. */
  last: () => Promise<void>;
  exit?: (code: number) => never;
}

export function stopOnSignals(deps: ShutdownDeps): void {
  const exit = deps.exit ?? ((code: number) => process.exit(code));
  const { log } = deps;
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('agent.stopping', { signal });
    const deadline = setTimeout(() => {
      log.error('agent.stop-timeout', { budgetMs: deps.budgetMs });
      exit(1);
    }, deps.budgetMs);
    deadline.unref();
    deps.server.closeAllConnections();
    const closed = Promise.allSettled([
      new Promise<void>((resolve) => deps.server.close(() => resolve())),
      ...deps.stops.map((stop) => stop()),
    ]).then(() => deps.last());
    closed.then(
      () => {
        log.info('agent.stopped', {});
        exit(0);
      },
      (err: unknown) => {
        log.error('agent.stop-failed', { err });
        exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
