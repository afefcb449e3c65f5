/**
 * What `balena push` and `balena device logs --system` show during an update: the agent process (the
 * built bundle) takes a two-service release and then an update through the local API, and the log
 * stream read the way balena-cli reads it (`/v2/local/logs`, NDJSON) carries a system line for each step's
 * start and end, in order, with the texts of docs/protocol.md#system-log-messages, services named `<service> <engine image
 * id>`. A release whose image cannot be pulled produces its failure line.
 *
 * The image is pushed under a name unique to this run, so the agent really downloads it.
 */
import assert from 'node:assert/strict';
import {
  cleanupByLabel,
  removeImagesByPrefix,
  requireDocker,
  testDocker,
  uniquePrefix,
} from '../support/docker.js';
import { TEST_IMAGES } from '../support/images.js';
import { OPEN_REGISTRY, requireRegistries } from '../support/registry.js';
import { AgentProcess } from '../support/agent-process.js';
import { localTargetBody, type LocalService } from '../support/local-target-body.js';

interface LogLine {
  message: string;
  isSystem?: boolean;
  isStdErr?: boolean;
  serviceName?: string;
}

/** Reads `/v2/local/logs` as balena-cli does, for as long as the test runs. */
class LogReader {
  readonly lines: LogLine[] = [];
  private readonly abort = new AbortController();
  private waiters: Array<() => void> = [];

  async open(url: string): Promise<void> {
    const res = await fetch(`${url}/v2/local/logs`, {
      signal: this.abort.signal,
      headers: { accept: '*/*' },
    });
    assert.equal(res.status, 200);
    const body = res.body!;
    void (async () => {
      const decoder = new TextDecoder();
      let pending = '';
      try {
        for await (const chunk of body) {
          pending += decoder.decode(chunk as Uint8Array, { stream: true });
          let nl: number;
          while ((nl = pending.indexOf('\n')) !== -1) {
            this.lines.push(JSON.parse(pending.slice(0, nl)) as LogLine);
            pending = pending.slice(nl + 1);
          }
          for (const wake of this.waiters.splice(0)) wake();
        }
      } catch {
        // closed by close()
      }
    })();
    await this.waitFor((lines) => lines.length > 0, 'the stream greeting', 10_000);
  }

  system(): string[] {
    return this.lines.filter((l) => l.isSystem === true).map((l) => l.message);
  }

  async waitFor(
    done: (lines: LogLine[]) => boolean,
    what: string,
    timeoutMs: number,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.lines)) {
      if (Date.now() > deadline)
        assert.fail(
          `log stream: no ${what} after ${timeoutMs} ms: ${JSON.stringify(this.system())}`,
        );
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 500);
      });
    }
  }

  close(): void {
    this.abort.abort();
  }
}

/** Asserts that each line is present and that they appear in this order. */
function assertInOrder(lines: string[], expected: string[]): void {
  let at = -1;
  for (const line of expected) {
    const found = lines.indexOf(line, at + 1);
    assert.ok(
      found > at,
      `"${line}" missing or out of order after "${lines[at] ?? ''}" in ${JSON.stringify(lines)}`,
    );
    at = found;
  }
}

describe('agent process: system lines of an update in the local log stream', function () {
  this.timeout(300_000);
  const prefix = uniquePrefix('e2e-sys');
  const tag = prefix.slice(-8).toLowerCase();
  const repository = `${OPEN_REGISTRY}/bosun-test/syslines-${tag}`;
  const image = `${repository}:1`;
  const appId = 60_000 + Math.floor(Math.random() * 5_000);
  const docker = testDocker();
  let agent: AgentProcess | undefined;
  let logs: LogReader | undefined;
  let imageId = '';

  const push = (commit: string, releaseId: number, ref: string, services: LocalService[]) =>
    agent!.postLocalTarget(localTargetBody(prefix, appId, commit, releaseId, ref, services));

  before(async () => {
    await requireDocker();
    await requireRegistries();
    // Publish busybox under this run's own name, then forget the local tag: the agent must download it.
    const [repo, version] = [repository, '1'];
    await docker.getImage(TEST_IMAGES.busybox).tag({ repo, tag: version });
    const stream = await docker
      .getImage(image)
      .push({ authconfig: { serveraddress: OPEN_REGISTRY } });
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, output: Array<{ error?: string }>) =>
        err !== null
          ? reject(err)
          : output.some((o) => o.error !== undefined)
            ? reject(new Error(JSON.stringify(output)))
            : resolve(),
      ),
    );
    await removeImagesByPrefix(repository);
    agent = await AgentProcess.create(prefix);
    await agent.start();
    logs = new LogReader();
    // balena-cli's stream only carries what is sent while it is open: open it before the push.
    await logs.open(agent.url);
  });

  after(async () => {
    logs?.close();
    await agent?.remove();
    await cleanupByLabel(prefix);
    await removeImagesByPrefix(repository);
  });

  it('a two-service release: download, network, volume, then install and start of each service', async () => {
    await push('one', 1, image, [{ name: 'front', data: true }, { name: 'back' }]);
    await logs!.waitFor(
      () =>
        ['front', 'back'].every((s) =>
          logs!.system().some((m) => m.startsWith(`Started service '${s} `)),
        ),
      'start of both services',
      120_000,
    );
    imageId = (await docker.getImage(image).inspect()).Id;
    const lines = logs!.system();
    for (const service of ['front', 'back'])
      assertInOrder(lines, [
        `Downloading image '${image}'`,
        `Downloaded image '${image}'`,
        `Installing service '${service} ${imageId}'`,
        `Installed service '${service} ${imageId}'`,
        `Starting service '${service} ${imageId}'`,
        `Started service '${service} ${imageId}'`,
      ]);
    assertInOrder(lines, ["Creating network 'default'", `Installing service 'front ${imageId}'`]);
    assertInOrder(lines, ["Creating volume 'data'", `Installing service 'front ${imageId}'`]);
    // One download for the two services that share the image.
    assert.equal(lines.filter((m) => m === `Downloading image '${image}'`).length, 1);
    assert.ok(
      lines.every((m) => !m.startsWith('Failed') && !m.startsWith('Error')),
      JSON.stringify(lines),
    );
  });

  it("an update of one service's environment: kill, install and start of that service only", async () => {
    const from = logs!.lines.length;
    await push('one', 1, image, [
      { name: 'front', data: true },
      { name: 'back', env: { MODE: 'changed' } },
    ]);
    await logs!.waitFor(
      (all) =>
        all
          .slice(from)
          .some((l) => l.isSystem && l.message === `Started service 'back ${imageId}'`),
      'restart of back',
      120_000,
    );
    const lines = logs!.lines
      .slice(from)
      .filter((l) => l.isSystem === true)
      .map((l) => l.message);
    assertInOrder(lines, [
      `Killing service 'back ${imageId}'`,
      `Killed service 'back ${imageId}'`,
      `Installing service 'back ${imageId}'`,
      `Installed service 'back ${imageId}'`,
      `Starting service 'back ${imageId}'`,
      `Started service 'back ${imageId}'`,
    ]);
    // The old container stopped on SIGTERM with status 0 (the engine's die event).
    assert.ok(
      lines.includes(`Service exited 'back ${imageId}' with code 0`),
      JSON.stringify(lines),
    );
    assert.ok(
      lines.every((m) => !m.includes("'front ")),
      `front was not touched: ${JSON.stringify(lines)}`,
    );
    assert.ok(
      lines.every((m) => !m.startsWith('Downloading')),
      'the image is there already',
    );
  });

  it('a release whose image cannot be pulled says why', async () => {
    const missing = `${OPEN_REGISTRY}/bosun-test/missing-${tag}:1`;
    const from = logs!.lines.length;
    await push('two', 2, missing, [{ name: 'front', data: true }, { name: 'back' }]);
    await logs!.waitFor(
      (all) =>
        all
          .slice(from)
          .some((l) => l.isSystem && l.message.startsWith(`Failed to download image '${missing}'`)),
      'the failed download',
      120_000,
    );
    const failure = logs!.lines
      .slice(from)
      .find((l) => l.message.startsWith(`Failed to download image '${missing}'`))!;
    assert.match(failure.message, / due to '.+'$/);
    assert.equal(failure.isStdErr, true);
    assertInOrder(
      logs!.lines.slice(from).map((l) => l.message),
      [`Downloading image '${missing}'`, failure.message],
    );
    // Nothing was killed for an update that cannot happen (download-then-kill).
    assert.ok(
      logs!.lines.slice(from).every((l) => !l.message.startsWith('Killing service')),
      JSON.stringify(logs!.system()),
    );
  });

  it('a refused target says why in the log stream, and changes nothing', async () => {
    const before = await docker.listContainers({
      all: true,
      filters: { label: [`io.bosun.test.owner=${prefix}`] },
    });
    const from = logs!.lines.length;
    // What the CLI would send for a project whose app key is not a number.
    const res = await fetch(`${agent!.url}/v2/local/target-state`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ local: { name: 'e2e-device', config: {}, apps: { web: {} } } }),
    });
    assert.equal(res.status, 400);
    const answer = (await res.json()) as { message: string };
    await logs!.waitFor(
      (all) =>
        all.slice(from).some((l) => l.isSystem && l.message.startsWith('Target state refused')),
      'the refusal',
      30_000,
    );
    const line = logs!.lines.slice(from).find((l) => l.message.startsWith('Target state refused'))!;
    assert.equal(line.isStdErr, true);
    assert.ok(
      line.message.includes(answer.message),
      `the line gives the reason the API gave: ${line.message} / ${answer.message}`,
    );
    const after = await docker.listContainers({
      all: true,
      filters: { label: [`io.bosun.test.owner=${prefix}`] },
    });
    assert.deepEqual(after.map((c) => c.Id).sort(), before.map((c) => c.Id).sort());
  });
});
