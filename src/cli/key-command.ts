/**
 * `bosun key`: prints the device-wide API key of the local API, for people who need it outside local
 * mode (docs/security.md). It reads the database the agent would use (same environment variables), and
 * starts nothing: no engine, no API, no migration.
 */
import { resolvePaths, type Env } from '../config/agent-settings.js';
import { errorMessage } from '../shared/errors.js';
import { readGlobalKey } from '../store/read-global-key.js';

export interface KeyCommandIo {
  env: Env;
  cwd: string;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Returns the exit code. */
export function runKeyCommand(io: KeyCommandIo): number {
  try {
    const { dbPath } = resolvePaths(io.env, io.cwd);
    io.out(readGlobalKey(dbPath));
    return 0;
  } catch (err) {
    io.err(`bosun key: ${errorMessage(err)}`);
    return 1;
  }
}
