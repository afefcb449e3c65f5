/**
 * A dockerd of the benchmark's own (scripts/private-engine.sh: its own socket, data root and bridge), so
 * that other work's containers and events do not count, stopped when the benchmark ends so that no
 * engine is left running on the machine (its data root stays, with the pulled image, for the next run).
 */
import { execFileSync } from 'node:child_process';

export interface PrivateEngine {
  /** The engine's unix socket path. */
  readonly socket: string;
  /** Stops the engine and waits for it to exit; safe to call more than once. */
  stop(): void;
}

export function startPrivateEngine(name: string): PrivateEngine {
  const socket = execFileSync('bash', ['scripts/private-engine.sh', 'start', name], {
    encoding: 'utf8',
  }).trim();
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    execFileSync('bash', ['scripts/private-engine.sh', 'stop', name], { stdio: 'ignore' });
  };
  // Also when the benchmark fails or is interrupted part-way.
  process.once('exit', stop);
  return { socket, stop };
}
