/**
 * A second dockerd (scripts/private-engine.sh) whose data root is a small tmpfs made here, for disk
 * preflight tests: a ballast file on the same tmpfs sets the free space. `stop()` takes everything down
 * (engine, its bridge, run directory and log, the tmpfs) and is safe to call after a partial start.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, statfs, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TmpfsEngine {
  /** Unix socket of the private engine. */
  socket: string;
  /** Where the tmpfs is mounted (the engine's data root is `<mount>/docker`). */
  mount: string;
  /** Bytes free on the tmpfs now. */
  free(): Promise<number>;
  /** Sizes the ballast so that `bytes` are free (grown or shrunk in place, never freed first). */
  leaveFree(bytes: number): Promise<void>;
  stop(): Promise<void>;
}

export interface TmpfsEngineOptions {
  /** The tmpfs size (mount's `size=`). */
  size?: string;
  /** The engine's `--default-address-pool` (scripts/private-engine.sh has a roomy default). */
  addressPool?: string;
}

export async function startTmpfsEngine(options: TmpfsEngineOptions = {}): Promise<TmpfsEngine> {
  const size = options.size ?? '300m';
  const name = `pf-${randomBytes(3).toString('hex')}`;
  const mount = await mkdtemp(join(tmpdir(), 'bosun-preflight-'));
  let mounted = false;
  let started = false;
  const stop = async (): Promise<void> => {
    // Each step on its own: one failing must not leave the others undone.
    if (started) {
      await run('bash', ['scripts/private-engine.sh', 'stop', name]).catch((err: unknown) =>
        console.error('private engine stop:', err),
      );
      // The script leaves its bridge, run directory and log: this engine's own, by its unique name.
      await run('bash', [
        '-c',
        `ip link delete "bosun-$(printf '%s' "$1" | cksum | cut -c1-8)" 2>/dev/null; rm -rf "/run/bosun-engine-$1" "/var/log/bosun-engine-$1.log"`,
        '_',
        name,
      ]).catch(() => undefined);
    }
    if (mounted) await run('umount', [mount]).catch(() => run('umount', ['-l', mount]));
    await rm(mount, { recursive: true, force: true });
  };
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mount]);
    mounted = true;
    started = true;
    const { stdout } = await run(
      'bash',
      ['scripts/private-engine.sh', 'start', name, join(mount, 'docker')],
      options.addressPool === undefined
        ? {}
        : { env: { ...process.env, BOSUN_ENGINE_ADDRESS_POOL: options.addressPool } },
    );
    const ballast = join(mount, 'ballast');
    const ballastSize = async (): Promise<number> =>
      (await stat(ballast).catch(() => undefined))?.size ?? 0;
    const free = async (): Promise<number> => {
      const fs = await statfs(mount);
      return fs.bavail * fs.bsize;
    };
    return {
      socket: stdout.trim(),
      mount,
      free,
      leaveFree: async (bytes) => {
        // Removing it first would free the disk for a moment: a round measuring then would see room
        // that is not there.
        const current = await ballastSize();
        const size = Math.max(0, current + (await free()) - bytes);
        if (size === 0) await rm(ballast, { force: true });
        else if (size < current) await truncate(ballast, size);
        else await run('fallocate', ['-l', String(size), ballast]);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
