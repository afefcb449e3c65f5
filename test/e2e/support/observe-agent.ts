/**
 * What the metrics and dashboard end-to-end tests share: an agent process running a two-service app
 * (`main`, silent, and `worker`, which prints a line every second) on the real engine, and the
 * device-wide API key read from the agent's own SQLite store (what `bosun key` prints).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ownedContainers } from '../../support/docker.js';
import { TEST_IMAGES } from '../../support/images.js';
import type { AgentProcess } from '../../support/agent-process.js';
import { localTargetBody } from '../../support/local-target-body.js';

export const TICKER_CMD = [
  'sh',
  '-c',
  'trap "exit 0" TERM; i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 1 & wait $!; done',
];

/** The local-mode body for `main` and `worker`; `mainEnv` changes main's config (forces a recreate). */
export function twoServiceBody(
  prefix: string,
  appId: number,
  commit: string,
  mainEnv: Record<string, string> = {},
): unknown {
  const body = localTargetBody(prefix, appId, commit, 1, TEST_IMAGES.busybox, [
    { name: 'main', env: mainEnv },
    { name: 'worker' },
  ]) as {
    local: {
      apps: Record<string, { services: Record<string, { command: string[] }>; name: string }>;
    };
  };
  const app = body.local.apps[String(appId)]!;
  app.name = 'demo';
  app.services['2']!.command = TICKER_CMD;
  return body;
}

export function deviceKey(agent: AgentProcess): string {
  const db = new Database(join(agent.dir, 'data', 'bosun.sqlite'), {
    readonly: true,
    fileMustExist: true,
  });
  try {
    const row = db.prepare('SELECT key FROM api_key WHERE app_id = 0').get() as
      { key: string } | undefined;
    assert.ok(row, 'the agent has no device API key');
    return row.key;
  } finally {
    db.close();
  }
}

export interface RunningService {
  service: string;
  id: string;
  name: string;
}

/** Polls the engine until exactly these services run with this commit; fails after two minutes. */
export async function waitRunning(
  prefix: string,
  commit: string,
  services: string[],
): Promise<RunningService[]> {
  const deadline = Date.now() + 120_000;
  let seen: RunningService[] = [];
  while (Date.now() < deadline) {
    const list = await ownedContainers(prefix);
    seen = list
      .filter((c) => c.state === 'running' && c.name.endsWith(`_${commit}`))
      .map(({ service, id, name }) => ({ service, id, name }));
    if (list.length === services.length && services.every((s) => seen.some((c) => c.service === s)))
      return seen;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`services ${services.join(', ')} not running at ${commit}: ${JSON.stringify(seen)}`);
}
