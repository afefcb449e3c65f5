/**
 * How the benchmarks start the agent as `bin/bosun` does, and a bare Node floor the same way: the Node
 * flags and malloc environment are read from the script itself, so a benchmark cannot drift from what a
 * device runs.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Launch {
  /** Node flags before the bundle (`--max-semi-space-size=1 …`). */
  flags: string[];
  /** What bin/bosun exports unless the caller set it (glibc malloc tunables). */
  env: Record<string, string>;
}

export function binBosunLaunch(): Launch {
  const script = readFileSync(new URL('../../bin/bosun', import.meta.url), 'utf8');
  const exec = /^exec node (.*?) "\$here/m.exec(script);
  if (exec === null)
    throw new Error('bin/bosun: no `exec node … "$here/…"` line to read flags from');
  const env: Record<string, string> = {};
  for (const m of script.matchAll(/^export (MALLOC_\w+)="\$\{\w+:-([^}]*)\}"$/gm))
    env[m[1]!] = m[2]!;
  return { flags: exec[1]!.split(/\s+/).filter((f) => f !== ''), env };
}

/** Polls `path` every `everyMs` until it answers 200; fails if the process exits or after 120 s. */
export async function waitForAnswer(
  port: number,
  child: ChildProcess,
  path = '/ping',
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`no answer on ${path} (port ${port}) in 120 s`);
    if (child.exitCode !== null)
      throw new Error(`process exited with ${child.exitCode} before answering ${path}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}${path}`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(everyMs);
  }
}
