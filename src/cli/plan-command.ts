/**
 * `bosun plan [<file>]`: asks the running agent on this device (POST /v2/plan on 127.0.0.1) what it
 * would do with the target in `<file>` (the local-mode shape balena-cli pushes, or the cloud's v3
 * shape), or with its stored target when no file is given, and prints the plan as text. Changes
 * nothing. A device in cloud mode needs the device API key: BOSUN_API_KEY (what `bosun key` prints).
 */
import { open } from 'node:fs/promises';
import type { PlanPreviewView } from '../api/plan-schemas.js';
import { readEnvSettings } from '../config/agent-settings.js';
import { errorMessage } from '../shared/errors.js';
import { renderPlanPreview } from './render-plan.js';

export interface PlanCommandIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The arguments after `plan`. */
  args: readonly string[];
  out: (text: string) => void;
  err: (text: string) => void;
}

/** The API's body limit: a larger file could not be sent anyway. */
const MAX_FILE_BYTES = 10 * 1024 * 1024;

/** Returns the exit code: 0 printed, 1 the file, the target or the agent failed, 2 usage. */
export async function planCommand(io: PlanCommandIo): Promise<number> {
  if (io.args.length > 1) {
    io.err('usage: bosun plan [<target.json>]\n');
    return 2;
  }
  let body: string | undefined;
  let port: number;
  try {
    port = readEnvSettings(io.env, io.cwd).apiPort ?? 48484;
    if (io.args[0] !== undefined) body = await readBounded(io.args[0]);
    if (body !== undefined) JSON.parse(body);
  } catch (err) {
    io.err(`bosun plan: ${errorMessage(err)}\n`);
    return 1;
  }
  const url = `http://127.0.0.1:${port === 0 ? 48484 : port}/v2/plan`;
  const key = io.env['BOSUN_API_KEY'];
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(key === undefined || key === '' ? {} : { Authorization: `Bearer ${key}` }),
      },
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (err) {
    io.err(`bosun plan: the agent does not answer at ${url} (${errorMessage(err)})\n`);
    return 1;
  }
  const text = await res.text();
  if (res.status === 401) {
    io.err(
      'bosun plan: the agent needs the device API key: BOSUN_API_KEY=<key> bosun plan (`bosun key` prints it)\n',
    );
    return 1;
  }
  if (!res.ok) {
    io.err(`bosun plan: the agent answered ${res.status}: ${messageOf(text)}\n`);
    return 1;
  }
  io.out(renderPlanPreview(JSON.parse(text) as PlanPreviewView));
  return 0;
}

/** The file's text, refusing anything larger than the API would take (read no further than that). */
async function readBounded(path: string): Promise<string> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(MAX_FILE_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await file.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > MAX_FILE_BYTES)
        throw new Error(`${path} is larger than ${MAX_FILE_BYTES} bytes, the API's limit`);
    }
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    await file.close();
  }
}

function messageOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message.slice(0, 2000);
  } catch {
    // not JSON: the text itself
  }
  return text.slice(0, 2000);
}
