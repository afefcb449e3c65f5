/**
 * balena-cli's livepush against the agent process (the built bundle): in live mode the CLI copies changed
 * files into the running container, then kills it and starts it itself, through the engine. The agent
 * must not race it: 50 times in a row every start through the engine succeeds, and the agent does not
 * start the container in between (the engine's event log shows exactly the CLI's starts, and the log
 * stream no "Starting service" line of the agent). A container that really crashes is still restarted,
 * by its restart policy with the engine's growing delay, and not by the agent on top of it.
 */
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { tarFiles } from '../support/balena-cli.js';
import {
  cleanupByLabel,
  requireDocker,
  TEST_LABEL,
  testDocker,
  uniquePrefix,
} from '../support/docker.js';
import { TEST_IMAGES } from '../support/images.js';
import { requireRegistries } from '../support/registry.js';
import { AgentProcess } from '../support/agent-process.js';
import { localTargetBody } from '../support/local-target-body.js';

interface LogLine {
  message: string;
  isSystem?: boolean;
}

interface EngineEvent {
  Type: string;
  Action: string;
  id?: string;
}

/** The time the CLI takes between its kill and its start (its own HTTP round trips, the sync output). */
const CLI_PAUSE_MS = 300;
const SYNCS = 50;

describe('agent process: livepush (copy, kill, start through the engine) is not raced', function () {
  this.timeout(300_000);
  const prefix = uniquePrefix('e2e-live');
  const appId = 66_000 + Math.floor(Math.random() * 3_000);
  const docker = testDocker();
  let agent: AgentProcess | undefined;
  const logs: LogLine[] = [];
  const stops: Array<() => void> = [];

  const body = (withCrashy: boolean): unknown => {
    const b = localTargetBody(prefix, appId, 'live1', 1, TEST_IMAGES.busybox, [
      { name: 'live' },
      ...(withCrashy ? [{ name: 'crashy' }] : []),
    ]) as {
      local: { apps: Record<string, { services: Record<string, Record<string, unknown>> }> };
    };
    const crashy = b.local.apps[String(appId)]!.services['2'];
    if (crashy !== undefined) crashy['command'] = ['sh', '-c', 'sleep 1; exit 3'];
    return b;
  };

  const containerOf = async (service: string): Promise<string> => {
    for (let i = 0; i < 600; i++) {
      const list = await docker.listContainers({
        filters: { label: [`${TEST_LABEL}=${prefix}`, `io.balena.service-name=${service}`] },
      });
      if (list[0] !== undefined) return list[0].Id;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.fail(`${service} never ran: ${agent?.stderrTail ?? ''}`);
  };

  before(async () => {
    await requireDocker();
    await requireRegistries();
    agent = await AgentProcess.create(prefix);
    await agent.start();
    const abort = new AbortController();
    stops.push(() => abort.abort());
    const res = await fetch(`${agent.url}/v2/local/logs`, { signal: abort.signal });
    void (async () => {
      let pending = '';
      try {
        for await (const chunk of res.body!) {
          pending += Buffer.from(chunk as Uint8Array).toString('utf8');
          let nl: number;
          while ((nl = pending.indexOf('\n')) !== -1) {
            logs.push(JSON.parse(pending.slice(0, nl)) as LogLine);
            pending = pending.slice(nl + 1);
          }
        }
      } catch {
        // closed at the end
      }
    })();
  });

  after(async () => {
    for (const stop of stops) stop();
    await agent?.remove();
    await cleanupByLabel(prefix);
  });

  it(`${SYNCS} syncs in a row: every start through the engine succeeds, the agent starts nothing`, async () => {
    await agent!.postLocalTarget(body(false));
    const id = await containerOf('live');
    const container = docker.getContainer(id);
    const started = (): number =>
      logs.filter((l) => l.isSystem === true && l.message.startsWith("Started service 'live "))
        .length;
    for (let i = 0; i < 100 && started() === 0; i++) await new Promise((r) => setTimeout(r, 200));
    assert.equal(started(), 1, 'the agent started the service once');

    const events: EngineEvent[] = [];
    const stream = (await docker.getEvents({
      filters: { container: [id], event: ['start', 'die', 'kill'] },
    })) as Readable;
    stops.push(() => stream.destroy());
    let pending = '';
    stream.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) !== -1) {
        events.push(JSON.parse(pending.slice(0, nl)) as EngineEvent);
        pending = pending.slice(nl + 1);
      }
    });

    for (let i = 0; i < SYNCS; i++) {
      await container.putArchive(tarFiles({ [`synced-${i}.txt`]: `sync ${i}\n` }), {
        path: '/tmp',
      });
      await container.kill();
      await new Promise((r) => setTimeout(r, CLI_PAUSE_MS));
      // dockerode rejects on 304 "container already started": the failure the CLI reports.
      await container.start().catch((err: unknown) => {
        throw new Error(`sync ${i}: the CLI's start failed: ${String(err)}\n${agent!.stderrTail}`);
      });
    }
    const count = (action: string): number => events.filter((e) => e.Action === action).length;
    for (let i = 0; i < 50 && count('start') < SYNCS; i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(count('die'), SYNCS);
    assert.equal(count('start'), SYNCS, 'only the CLI started the container');
    const inspect = await container.inspect();
    assert.equal(inspect.State.Running, true);
    assert.equal(started(), 1, 'no "Started service" from the agent during the syncs');
    // The files synced last are in the container that runs.
    const file = await container.getArchive({ path: `/tmp/synced-${SYNCS - 1}.txt` });
    file.resume();
  });

  it('a container that really crashes is restarted by its restart policy, not raced by the agent', async () => {
    await agent!.postLocalTarget(body(true));
    const id = await containerOf('crashy');
    const container = docker.getContainer(id);
    let restarts = 0;
    for (let i = 0; i < 300 && restarts < 3; i++) {
      restarts = (await container.inspect()).RestartCount;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(restarts >= 3, `restarted ${restarts} times`);
    const system = logs.filter((l) => l.isSystem === true).map((l) => l.message);
    assert.ok(
      system.some((m) => m.startsWith("Service exited 'crashy ") && m.endsWith('with code 3')),
      JSON.stringify(system),
    );
    assert.ok(system.some((m) => m.startsWith("Restarting service 'crashy ")));
    assert.equal(
      system.filter((m) => m.startsWith("Started service 'crashy ")).length,
      1,
      'the agent started it once; the restarts are the engine restart policy',
    );
    assert.equal((await container.inspect()).HostConfig.RestartPolicy?.Name, 'always');
  });

  it('a container someone stopped and did not start again is started by the agent after the grace period', async () => {
    const id = await containerOf('live');
    const container = docker.getContainer(id);
    const agentStarts = (): number =>
      logs.filter((l) => l.isSystem === true && l.message.startsWith("Started service 'live "))
        .length;
    const before = agentStarts();
    await container.kill();
    let running = false;
    for (let i = 0; i < 300 && !running; i++) {
      await new Promise((r) => setTimeout(r, 200));
      running = (await container.inspect()).State.Running;
    }
    assert.ok(running, `never started again: ${agent!.stderrTail}`);
    for (let i = 0; i < 50 && agentStarts() === before; i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(agentStarts(), before + 1, 'the agent started it, once');
  });
});
