/**
 * Waits until an agent process answers GET /ping (up to about a minute), failing at once with what it
 * printed when the process exits first. Shared by every e2e helper that spawns the bundle.
 *
 * `/ping` answers before the rest of the agent has loaded (src/start.ts), so by default this then waits
 * for the whole API too: a request the early server holds (`/v1/healthy`) is answered once the agent is
 * up. `{ pingOnly: true }` stops at the first `/ping`.
 */
import type { ChildProcess } from 'node:child_process';

export async function waitForPing(
  url: string,
  child: ChildProcess,
  output: () => string,
  options: { pingOnly?: boolean } = {},
): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null)
      throw new Error(`agent exited with ${child.exitCode}: ${output()}`);
    try {
      if ((await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) })).ok) {
        if (options.pingOnly !== true) await wholeApi(url, child, output);
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`agent did not answer /ping: ${output()}`);
}

async function wholeApi(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`agent exited with ${code}: ${output()}`))),
  );
  // Healthy or not, any answer means the API is up; a minute covers a slow, loaded machine.
  await Promise.race([fetch(`${url}/v1/healthy`, { signal: AbortSignal.timeout(60_000) }), exited]);
}
