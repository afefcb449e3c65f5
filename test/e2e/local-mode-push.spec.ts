/**
 * balena-cli local mode end to end: what `balena push <ip> --nolive --detached` sends for a two-service
 * project (docs/protocol.md#balena-push), replayed against the agent process and the real engine, then what
 * `balena device logs <ip>` reads (docs/protocol.md#local-log-stream), then leaving local mode. Checked through the API and the engine.
 * Everything carries this run's owner label (the agent runs with BOSUN_SCOPE_LABELS), service names
 * are unique per run, and the images are built from the offline busybox test image.
 */
import assert from 'node:assert/strict';
import {
  buildLikeCli,
  cliCall,
  cliTargetState,
  engineImageIds,
  engineVersion,
  semverAtLeast,
  tarFiles,
  type ComposeService,
} from '../support/balena-cli.js';
import { TEST_LABEL, testDocker, uniquePrefix } from '../support/docker.js';
import { TEST_IMAGES } from '../support/images.js';
import { suiteAgent } from './support/suite-agent.js';

interface LogLine {
  message: string;
  timestamp?: number;
  isSystem?: boolean;
  serviceName?: string;
}

/** Prints a numbered line every half second and exits at once on SIGTERM. */
function chattyDockerfile(service: string): string {
  return [
    `FROM ${TEST_IMAGES.busybox}`,
    `CMD ["sh", "-c", "trap 'exit 0' TERM; i=0; while true; do echo \\"${service} says $i\\"; i=$((i+1)); sleep 0.5 & wait $!; done"]`,
    '',
  ].join('\n');
}

/** Reads `/v2/local/logs` the way `balena device logs` does until `done` says enough. */
async function readLogs(
  url: string,
  done: (lines: LogLine[]) => boolean,
  timeoutMs: number,
): Promise<LogLine[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const lines: LogLine[] = [];
  try {
    const res = await fetch(`${url}/v2/local/logs`, {
      signal: abort.signal,
      headers: { accept: '*/*' },
    });
    assert.equal(res.status, 200);
    const decoder = new TextDecoder();
    let pending = '';
    for await (const chunk of res.body!) {
      pending += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = pending.indexOf('\n')) !== -1) {
        lines.push(JSON.parse(pending.slice(0, nl)) as LogLine);
        pending = pending.slice(nl + 1);
      }
      if (done(lines)) return lines;
    }
    throw new Error('the log stream ended; balena-cli would count that as a lost connection');
  } catch (err) {
    if (abort.signal.aborted)
      throw new Error(
        `log stream: timed out after ${timeoutMs} ms with ${JSON.stringify(lines.slice(-6))}`,
      );
    throw err;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

describe('balena-cli local mode: push --nolive --detached, device logs, leaving local mode', function () {
  this.timeout(300_000);
  const prefix = uniquePrefix('cli');
  const tag = prefix.slice(-8);
  const web = `web${tag}`;
  const worker = `worker${tag}`;
  const owner = { [TEST_LABEL]: prefix };
  const docker = testDocker();
  const agent = suiteAgent(prefix);

  // After the suite agent's own clean-up (hooks run in order): the images the push built.
  after(async () => {
    for (const image of [`local_${web}`, `local_${worker}`])
      await docker
        .getImage(image)
        .remove({ force: true })
        .catch(() => undefined);
  });

  it('takes the push: version gate, device info, builds, target state, applied', async () => {
    // 1–3: what the CLI asks the supervisor before building.
    assert.equal(await cliCall(agent().url, 'GET', '/ping'), 'OK');
    const version = (await cliCall(agent().url, 'GET', '/v2/version')) as {
      status: string;
      version: string;
    };
    assert.equal(version.status, 'success');
    assert.ok(
      semverAtLeast(version.version, '7.21.4'),
      `version ${version.version} is below the CLI's local-mode minimum`,
    );
    const deviceInfo = (await cliCall(agent().url, 'GET', '/v2/local/device-info')) as {
      info: { arch: string; deviceType: string };
    };
    // The CLI picks base images by this arch: it must be the balena name of the engine's own arch.
    const engineArch = (await engineVersion()).Arch;
    const balenaName: Record<string, string> = {
      amd64: 'amd64',
      arm64: 'aarch64',
      arm: 'armv7hf',
      '386': 'i386',
    };
    assert.equal(deviceInfo.info.arch, balenaName[engineArch] ?? engineArch);
    assert.match(deviceInfo.info.deviceType, /^[a-z0-9-]+$/);

    // 4–7: the builds, on the device's engine, concurrently, as the CLI does them.
    const cacheFrom = await engineImageIds();
    const [webBuild, workerBuild] = await Promise.all([
      buildLikeCli(web, tarFiles({ Dockerfile: chattyDockerfile(web) }), cacheFrom),
      buildLikeCli(
        worker,
        tarFiles({ Dockerfile: chattyDockerfile(worker), 'run.sh': 'echo unused\n' }),
        cacheFrom,
      ),
    ]);
    for (const [service, build] of [
      [web, webBuild],
      [worker, workerBuild],
    ] as const) {
      const image = await docker.getImage(`local_${service}`).inspect();
      assert.ok(image.Id.includes(build.imageId), `local_${service} is the built image`);
      assert.equal(image.Config.Labels?.['io.resin.local.service'], service);
    }

    // 8–9: the target state round trip.
    const current = (await cliCall(agent().url, 'GET', '/v2/local/target-state')) as {
      status: string;
      state: { local: Record<string, unknown> };
    };
    assert.equal(current.status, 'success');
    assert.ok(
      current.state.local !== undefined && typeof current.state.local === 'object',
      'state.local must exist',
    );
    const services: ComposeService[] = [
      {
        name: web,
        compose: {
          build: './web',
          environment: { GREETING: 'hello', GLOBAL: '1' },
          labels: { ...owner, 'io.balena.features.supervisor-api': '1' },
        },
      },
      {
        name: worker,
        compose: {
          build: { context: './worker' },
          environment: { GLOBAL: '1' },
          labels: { ...owner },
          depends_on: [web],
          restart: 'always',
          volumes: ['data:/data'],
        },
      },
    ];
    const body = cliTargetState(current.state, services, {
      volumes: { data: { labels: owner } },
      networks: { default: { labels: owner } },
    });
    assert.deepEqual(await cliCall(agent().url, 'POST', '/v2/local/target-state', body), {
      status: 'success',
      message: 'OK',
    });

    // 11 (what a live push polls; bounded here where the CLI waits forever).
    let status:
      | {
          status: string;
          appState: string;
          containers: Array<{ serviceName: string; containerId: string; status: string }>;
        }
      | undefined;
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline) {
      status = (await cliCall(agent().url, 'GET', '/v2/state/status')) as typeof status;
      const names = new Set(status!.containers.map((c) => c.serviceName));
      if (status!.appState === 'applied' && names.has(web) && names.has(worker)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.equal(
      status?.appState,
      'applied',
      `never applied: ${JSON.stringify(status)}\n${agent().output()}`,
    );
    assert.equal(status.status, 'success');

    // The engine agrees: one running container per service, named as `balena device ssh` expects.
    const containers = await docker.listContainers({
      filters: { label: [`${TEST_LABEL}=${prefix}`] },
    });
    const byService = new Map(containers.map((c) => [c.Labels['io.balena.service-name'], c]));
    for (const service of [web, worker]) {
      const c = byService.get(service);
      assert.ok(c, `no container for ${service}`);
      assert.equal(c.State, 'running');
      assert.match(c.Names[0]!, new RegExp(`^/${service}_\\d+_\\d+`));
      assert.equal(c.Labels['io.balena.app-uuid'], '1');
    }
  });

  it('streams both services over /v2/local/logs as balena device logs reads it', async () => {
    const lines = await readLogs(
      agent().url,
      (l) =>
        l.some((x) => x.serviceName === web && /says \d+/.test(x.message)) &&
        l.some((x) => x.serviceName === worker && /says \d+/.test(x.message)),
      60_000,
    );
    assert.deepEqual(lines[0], { message: 'Streaming logs', isSystem: true });
    for (const line of lines.filter((l) => l.serviceName !== undefined)) {
      assert.equal(typeof line.timestamp, 'number');
      assert.ok(
        line.message.startsWith(`${line.serviceName} says `) || !/says/.test(line.message),
        JSON.stringify(line),
      );
    }
  });

  it('leaving local mode removes what local mode made, and keeps the volume', async () => {
    const volumeName = '1_data';
    const volume = await docker.getVolume(volumeName).inspect();
    assert.equal(volume.Labels?.[TEST_LABEL], prefix);

    await agent().stop();
    await agent().start({ BOSUN_LOCAL_MODE: 'false' });
    const deadline = Date.now() + 120_000;
    let left: unknown[] = [];
    while (Date.now() < deadline) {
      left = await docker.listContainers({
        all: true,
        filters: { label: [`${TEST_LABEL}=${prefix}`] },
      });
      if (left.length === 0) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.deepEqual(
      left,
      [],
      `local-mode containers survived leaving local mode\n${agent().output()}`,
    );
    const networks = await docker.listNetworks({ filters: { label: [`${TEST_LABEL}=${prefix}`] } });
    assert.deepEqual(
      networks.map((n) => n.Name),
      [],
    );
    assert.equal(
      (await docker.getVolume(volumeName).inspect()).Labels?.[TEST_LABEL],
      prefix,
      'the volume survives',
    );
    for (const image of [`local_${web}`, `local_${worker}`]) {
      // Images go last, after containers and networks: under load their removal can trail the
      // containers' by a second or more, so wait for it (bounded) rather than race it.
      for (let i = 0; i < 60; i++) {
        try {
          await docker.getImage(image).inspect();
        } catch {
          break;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      await assert.rejects(
        docker.getImage(image).inspect(),
        /no such image|404/i,
        `${image} was built for local mode and goes with it`,
      );
    }
    await docker.getImage(TEST_IMAGES.busybox).inspect(); // the base image is not local mode's to remove
    // The local-mode endpoints now refuse, as balena-cli expects from a device not in local mode.
    await assert.rejects(
      cliCall(agent().url, 'POST', '/v2/local/target-state', { local: { apps: {} } }),
      /local mode|401|Unauthorized/i,
    );
  });
});
