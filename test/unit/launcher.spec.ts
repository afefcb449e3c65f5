/**
 * bin/bosun, the launcher users and the device image run (entry.sh execs it): the process it starts must
 * carry the glibc malloc settings the soak was measured with (BENCHMARKS.md, "Soak"), and a value the
 * user sets must win. The real node is replaced on PATH by a stand-in that prints what it was given, since
 * what is under test is the launcher, not node.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const LAUNCHER = resolve('bin/bosun');

describe('bin/bosun launcher', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bosun-launcher-'));
    writeFileSync(
      join(dir, 'node'),
      [
        '#!/bin/sh',
        'echo "MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX-unset}"',
        'echo "MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_-unset}"',
        'echo "MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_-unset}"',
        'for a in "$@"; do echo "arg=$a"; done',
        '',
      ].join('\n'),
    );
    chmodSync(join(dir, 'node'), 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function launch(arenaMax: string | undefined): Promise<string[]> {
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dir}:${process.env['PATH'] ?? ''}` };
    for (const name of ['MALLOC_ARENA_MAX', 'MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_'])
      delete env[name];
    if (arenaMax !== undefined) env['MALLOC_ARENA_MAX'] = arenaMax;
    const { stdout } = await run(LAUNCHER, ['status'], { env });
    return stdout.trim().split('\n');
  }

  it('limits glibc malloc to two arenas with fixed 128 KiB mmap/trim thresholds, and passes the bundle and the arguments through', async () => {
    const lines = await launch(undefined);
    assert.deepEqual(lines.slice(0, 3), [
      'MALLOC_ARENA_MAX=2',
      'MALLOC_MMAP_THRESHOLD_=131072',
      'MALLOC_TRIM_THRESHOLD_=131072',
    ]);
    assert.equal(lines.at(-2), `arg=${resolve('bin')}/../dist/bosun.mjs`);
    assert.equal(lines.at(-1), 'arg=status');
  });

  it('keeps a MALLOC_ARENA_MAX the user set', async () => {
    const lines = await launch('4');
    assert.equal(lines[0], 'MALLOC_ARENA_MAX=4');
  });
});
