/**
 * A benchmark agent's data dir, and its removal. The agent runs with its default log spool, which is
 * under /run (tmpfs, RAM) and named after the data dir (src/logs/log-spool-settings.ts): removing the
 * data dir alone would leave that spool behind on every run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataDirTag, SPOOL_DIR_PREFIX } from '../../src/logs/log-spool-settings.js';

/** A new, empty data dir under the system's temporary directory. */
export function makeAgentDataDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `${prefix}-`));
}

/** Removes the data dir and the default spool the agent made for it. Call once the agent exited. */
export function removeAgentDataDir(dataDir: string): void {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(join('/run', `${SPOOL_DIR_PREFIX}${dataDirTag(dataDir)}`), {
    recursive: true,
    force: true,
  });
}
