/**
 * How end-to-end tests start the agent: the built bundle, exactly as bin/bosun runs it, so e2e tests
 * exercise the artifact users get (esbuild externals, baked-in version) and not the sources through tsx.
 * A missing or stale build fails loudly instead of testing yesterday's code.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const BUNDLE = 'dist/bosun.mjs';

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestSourceMtime(path) : statSync(path).mtimeMs;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

/** `nodeArgs` go before the bundle (e.g. `--import` of a test hook). */
export function agentCommand(nodeArgs: readonly string[] = []): {
  command: string;
  args: string[];
} {
  let built: number;
  try {
    built = statSync(BUNDLE).mtimeMs;
  } catch {
    throw new Error(`${BUNDLE} is missing: run \`npm run build\` before the end-to-end tests`);
  }
  if (Math.max(newestSourceMtime('src'), newestSourceMtime('migrations')) > built)
    throw new Error(
      `${BUNDLE} is older than src/: run \`npm run build\` before the end-to-end tests`,
    );
  // Same flags as bin/bosun.
  return {
    command: process.execPath,
    args: ['--max-semi-space-size=1', '--optimize-for-size', ...nodeArgs, BUNDLE],
  };
}
