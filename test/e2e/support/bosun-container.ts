/**
 * bosun's own image as a container on the shared engine, laid out as balenaOS runs its supervisor:
 * host networking, the engine socket, the agent's `/data` volume and a (fake) boot partition at
 * /mnt/boot, the host root's os-release at /mnt/root. Everything it makes carries the test's owner label,
 * and the agent only sees that label's containers (BOSUN_SCOPE_LABELS), so it never touches anything
 * another test made. Images are built with scripts/build-image.sh from the fast host-package bases.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';
import { DOCKER_SOCKET, TEST_LABEL, testDocker } from '../../support/docker.js';
import { freePort } from '../../support/agent-process.js';

const run = promisify(execFile);

/** What the fake host says about itself (boot partition and os-release). */
export const FAKE_DEVICE = {
  uuid: 'b05c0ffee0b05c0ffee0b05c0ffee000',
  hostname: 'bosun-e2e',
  deviceType: 'intel-nuc',
  arch: 'amd64',
  osVersion: 'balenaOS 6.1.0',
} as const;

/** Builds bosun's image for `arch` with a fresh build id; returns how long it took (for the log). */
export async function buildImage(
  tag: string,
  arch = 'amd64',
  fromHost = true,
  addon: 'native' | 'cross' = 'native',
): Promise<{ seconds: number; bytes: number }> {
  const started = Date.now();
  const args = [
    'scripts/build-image.sh',
    ...(fromHost ? ['--from-host'] : []),
    '--addon',
    addon,
    '--tag',
    tag,
    arch,
  ];
  try {
    await run('bash', args, {
      env: { ...process.env, BOSUN_BUILD_ID: `${tag}-${Date.now()}` },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `image build failed: ${e.message}\n${(e.stdout ?? '').slice(-3000)}${(e.stderr ?? '').slice(-3000)}`,
    );
  }
  const info = await testDocker().getImage(tag).inspect();
  return { seconds: (Date.now() - started) / 1000, bytes: info.Size };
}

/** A fake host: boot partition (config.json, device-type.json), host root with os-release, lock root. */
export class FakeHost {
  private constructor(
    readonly prefix: string,
    readonly dir: string,
    readonly port: number,
    readonly dataVolume: string,
  ) {}

  /** Milliseconds from `docker start` to the first answered /ping, of the last startBosun. */
  lastStartMs = 0;

  /** `arch` null: no device-type.json (a development host: the agent detects its arch). */
  static async create(prefix: string, arch: string | null = FAKE_DEVICE.arch): Promise<FakeHost> {
    const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
    await mkdir(join(dir, 'boot'));
    await mkdir(join(dir, 'root', 'etc'), { recursive: true });
    await mkdir(join(dir, 'locks'));
    await writeFile(
      join(dir, 'boot', 'config.json'),
      JSON.stringify({ uuid: FAKE_DEVICE.uuid, hostname: FAKE_DEVICE.hostname }),
    );
    if (arch !== null)
      await writeFile(
        join(dir, 'boot', 'device-type.json'),
        JSON.stringify({ slug: FAKE_DEVICE.deviceType, arch, name: 'Intel NUC' }),
      );
    await writeFile(
      join(dir, 'root', 'etc', 'os-release'),
      `ID="balena-os"\nNAME="balenaOS"\nPRETTY_NAME="${FAKE_DEVICE.osVersion}"\nVARIANT_ID="dev"\n`,
    );
    const dataVolume = `${prefix}-data`;
    await testDocker().createVolume({ Name: dataVolume, Labels: { [TEST_LABEL]: prefix } });
    return new FakeHost(prefix, dir, await freePort(), dataVolume);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get lockRoot(): string {
    return join(this.dir, 'locks');
  }

  /** Mounts as balenaOS gives them to its supervisor container (the lock root at its host path). */
  binds(): string[] {
    return [
      `${DOCKER_SOCKET}:/var/run/docker.sock`,
      `${this.dataVolume}:/data`,
      `${join(this.dir, 'boot')}:/mnt/boot`,
      `${join(this.dir, 'root')}:/mnt/root:ro`,
      `${this.lockRoot}:${this.lockRoot}`,
    ];
  }

  /** Creates and starts a bosun container from `image`; resolves once it answers /ping. */
  async startBosun(
    image: string,
    name: string,
    hostConfig: Dockerode.HostConfig = {},
  ): Promise<Dockerode.Container> {
    const docker = testDocker();
    const container = await docker.createContainer({
      name,
      Image: image,
      Labels: { [TEST_LABEL]: this.prefix },
      Env: [
        'BOSUN_LOCAL_MODE=true',
        'BOSUN_API_HOST=127.0.0.1',
        `BOSUN_API_PORT=${this.port}`,
        `BOSUN_LOCK_ROOT=${this.lockRoot}`,
        `BOSUN_SCOPE_LABELS=${TEST_LABEL}=${this.prefix}`,
        `BOSUN_LOG_LEVEL=${process.env['BOSUN_TEST_LOG'] ?? 'info'}`,
      ],
      HostConfig: { NetworkMode: 'host', Binds: this.binds(), ...hostConfig },
    });
    const started = Date.now();
    await container.start();
    await waitFor(`${name} answers /ping`, 1200, async () => {
      const info = await container.inspect();
      if (!info.State.Running)
        throw new Error(`${name} exited (${info.State.ExitCode}): ${await logsOf(container)}`);
      const res = await fetch(`${this.url}/ping`, { signal: AbortSignal.timeout(1000) }).catch(
        () => undefined,
      );
      return res?.ok === true;
    });
    this.lastStartMs = Date.now() - started;
    return container;
  }

  async get(path: string): Promise<unknown> {
    const res = await fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(10_000) });
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  }

  async post(path: string, body: unknown): Promise<void> {
    const res = await fetch(`${this.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 200) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  }

  /** Waits until the agent says the target is applied and `services` run; returns them by name. */
  async waitApplied(
    services: string[],
    container: Dockerode.Container,
  ): Promise<Map<string, AppContainer>> {
    let seen = new Map<string, AppContainer>();
    await waitFor(`${services.join(', ')} running and applied`, 1800, async () => {
      const info = await container.inspect();
      if (!info.State.Running)
        throw new Error(`bosun exited (${info.State.ExitCode}): ${await logsOf(container)}`);
      const status = (await this.get('/v2/state/status')) as {
        appState?: string;
        containers?: { serviceName?: string; containerId?: string }[];
      };
      seen = await this.appContainers();
      // The agent's own account as well as the engine's: a freshly started agent answers 'applied'
      // with no containers before its first round has observed them.
      const reported = new Map(status.containers?.map((c) => [c.serviceName, c.containerId]));
      return (
        status.appState === 'applied' &&
        services.every((s) => seen.get(s)?.state === 'running') &&
        services.every((s) => reported.get(s) === seen.get(s)?.id) &&
        seen.size === services.length
      );
    });
    return seen;
  }

  /** The app containers of this test (supervised, with the owner label), by service name. */
  async appContainers(): Promise<Map<string, AppContainer>> {
    const docker = testDocker();
    const list = await docker.listContainers({
      all: true,
      filters: { label: [`${TEST_LABEL}=${this.prefix}`, 'io.balena.supervised'] },
    });
    const out = new Map<string, AppContainer>();
    for (const c of list) {
      const info = await docker.getContainer(c.Id).inspect();
      out.set(c.Labels['io.balena.service-name'] ?? '', {
        id: c.Id,
        state: c.State,
        startedAt: info.State.StartedAt,
        env: info.Config.Env ?? [],
      });
    }
    return out;
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

export interface AppContainer {
  id: string;
  state: string;
  startedAt: string;
  env: string[];
}

export async function logsOf(container: Dockerode.Container): Promise<string> {
  const buf = await container.logs({ stdout: true, stderr: true, tail: 40 });
  // The engine's 8-byte stream frame headers are left in: this is only for a failure message.
  return buf.toString('utf8');
}

/** `docker exec <id> cat <path>`: the container's own view of a file. */
export async function catIn(container: Dockerode.Container, path: string): Promise<string> {
  const { stdout } = await run('docker', ['exec', container.id, 'cat', path]);
  return stdout;
}

/** Polls every 250 ms until `check` is true; fails after `tries` with what it was waiting for. */
export async function waitFor(
  what: string,
  tries: number,
  check: () => Promise<boolean>,
): Promise<void> {
  let lastError: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      if (await check()) return;
    } catch (err) {
      if (err instanceof Error && /exited \(/.test(err.message)) throw err;
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `timed out waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`,
  );
}
