/**
 * How the benchmarks start the agent as `bin/bosun` does, and a bare Node floor the same way: the Node
 * flags and malloc environment are read from the script itself, so a benchmark cannot drift from what a
 * device runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

/**
 * Starts the built agent (local mode, on `engineSocket`, quiet log) or, for `floor`, a bare Node HTTP
 * server on the same port settings, both with `flags` and bin/bosun's malloc environment (`launch.env`).
 */
export function spawnAgentOrFloor(
  kind: 'agent' | 'floor',
  options: { port: number; dataDir: string; engineSocket: string; flags: string[]; launch: Launch },
): ChildProcess {
  const { port, dataDir, engineSocket, flags, launch } = options;
  const cmd =
    kind === 'agent'
      ? [...flags, 'dist/bosun.mjs']
      : [
          ...flags,
          '-e',
          `require('http').createServer((q,s)=>s.end('OK')).listen(${port},'127.0.0.1')`,
        ];
  return spawn(process.execPath, cmd, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      ...launch.env,
      BOSUN_DATA_DIR: dataDir,
      BOSUN_API_PORT: String(port),
      BOSUN_API_HOST: '127.0.0.1',
      BOSUN_LOCAL_MODE: 'true',
      BOSUN_LOG_LEVEL: 'warn',
      BOSUN_ENGINE_SOCKET: engineSocket,
      BOSUN_LOCK_ROOT: join(dataDir, 'locks'),
    },
  });
}
