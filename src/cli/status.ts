/**
 * `bosun status`: asks the running agent on this device (its local API on 127.0.0.1) for the
 * dashboard's view and prints it. Read-only. A device in cloud mode needs the device API key:
 * BOSUN_API_KEY (what `bosun key` prints).
 */
import { readEnvSettings } from '../config/agent-settings.js';
import type { DashboardView } from '../api/dashboard-types.js';
import { errorMessage } from '../shared/errors.js';
import { renderStatus } from './render-status.js';

export interface StatusCommandIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Returns the exit code: 0 printed, 1 the agent refused or did not answer. */
export async function statusCommand(io: StatusCommandIo): Promise<number> {
  let port: number;
  try {
    port = readEnvSettings(io.env, io.cwd).apiPort ?? 48484;
  } catch (err) {
    io.err(`bosun status: ${errorMessage(err)}\n`);
    return 1;
  }
  const url = `http://127.0.0.1:${port === 0 ? 48484 : port}/dashboard/state`;
  const key = io.env['BOSUN_API_KEY'];
  let res: Response;
  try {
    res = await fetch(url, {
      headers: key === undefined || key === '' ? {} : { Authorization: `Bearer ${key}` },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    io.err(`bosun status: the agent does not answer at ${url} (${errorMessage(err)})\n`);
    return 1;
  }
  if (res.status === 401) {
    io.err(
      'bosun status: the agent needs the device API key: BOSUN_API_KEY=<key> bosun status (`bosun key` prints it)\n',
    );
    return 1;
  }
  if (!res.ok) {
    io.err(`bosun status: the agent answered ${res.status}: ${(await res.text()).slice(0, 500)}\n`);
    return 1;
  }
  io.out(renderStatus((await res.json()) as DashboardView));
  return 0;
}
