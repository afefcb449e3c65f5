/**
 * Reads the host journal by running journalctl (docs/protocol.md#journal-logs). Arguments are
 * passed as an argv array, never through a shell. The child is SIGKILLed when the caller aborts (client
 * gone), as balena does. A non-zero exit with nothing written becomes an error on the stream.
 */
import { spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { BosunError } from '../shared/errors.js';

export class Journalctl {
  constructor(private readonly binary = 'journalctl') {}

  stream(args: readonly string[], signal: AbortSignal): Readable {
    const out = new PassThrough();
    const child = spawn(this.binary, [...args], {
      signal,
      killSignal: 'SIGKILL',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    child.stdout.pipe(out, { end: false });
    child.once('error', (err) => {
      if (signal.aborted) out.end();
      else
        out.destroy(
          new BosunError('NOT_READY', `cannot run ${this.binary}: ${err.message}`, { cause: err }),
        );
    });
    child.once('close', (code) => {
      if (code !== 0 && code !== null && !signal.aborted) {
        out.destroy(
          new BosunError('VALIDATION_FAILED', `journalctl exited with ${code}: ${stderr.trim()}`),
        );
      } else out.end();
    });
    return out;
  }
}
