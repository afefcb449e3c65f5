/**
 * Waits until an agent process answers GET /ping (up to about a minute), failing at once with what it
 * printed when the process exits first. Shared by every e2e helper that spawns the bundle.
 */
import type { ChildProcess } from 'node:child_process';

export async function waitForPing(
  url: string,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null)
      throw new Error(`agent exited with ${child.exitCode}: ${output()}`);
    try {
      if ((await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`agent did not answer /ping: ${output()}`);
}
