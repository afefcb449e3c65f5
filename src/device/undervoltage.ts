/**
 * `is_undervolted` of the state report (docs/protocol.md#report-body): whether the kernel log says the board ran
 * under-voltage (a Raspberry Pi's firmware logs "Under-voltage detected!"), read with `dmesg` as upstream
 * does. Bounded: at most 1 MiB of output, 5 s, and re-read at most every 5 minutes (the report asks more
 * often). Where dmesg cannot be read (restricted, missing), the answer is false: unknown is not a fault.
 */
import { execFile } from 'node:child_process';

const REREAD_MS = 5 * 60_000;
const UNDERVOLTAGE = /under.*voltage/i;

/** Pure: does this kernel log text report under-voltage? */
export function mentionsUndervoltage(kernelLog: string): boolean {
  return kernelLog.split('\n').some((line) => UNDERVOLTAGE.test(line));
}

function readKernelLog(): Promise<string> {
  return new Promise((resolve) => {
    execFile(
      'dmesg',
      [],
      { maxBuffer: 1024 * 1024, timeout: 5_000, encoding: 'utf8' },
      (err, stdout) => resolve(err === null ? stdout : ''),
    );
  });
}

/** A cached reader: `now` is the agent's clock. */
export function undervoltageReader(
  now: () => number,
  read: () => Promise<string> = readKernelLog,
): () => Promise<boolean> {
  let last: { at: number; value: boolean } | undefined;
  return async () => {
    if (last === undefined || now() - last.at >= REREAD_MS)
      last = { at: now(), value: mentionsUndervoltage(await read()) };
    return last.value;
  };
}
