/**
 * What every test that needs the Docker engine uses: a loud precondition (never a skip), unique names,
 * and clean-up of exactly what the test made (the engine is shared with other test runs: never prune).
 */
import { randomBytes } from 'node:crypto';
import Dockerode from 'dockerode';

export const DOCKER_SOCKET = process.env['BOSUN_TEST_DOCKER_SOCKET'] ?? '/var/run/docker.sock';

/** Label put on everything a test creates; its value is the test's unique prefix. */
export const TEST_LABEL = 'io.bosun.test.owner';

export function testDocker(): Dockerode {
  return new Dockerode({ socketPath: DOCKER_SOCKET });
}

/** `bosun-test-<area>-<random>`: unique per run, a valid container/network/volume name prefix. */
export function uniquePrefix(area: string): string {
  return `bosun-test-${area}-${randomBytes(4).toString('hex')}`;
}

/** Throws when the engine does not answer: a test that needs Docker must fail, not skip. */
export async function requireDocker(socketPath: string = DOCKER_SOCKET): Promise<void> {
  try {
    await new Dockerode({ socketPath, timeout: 5000 }).ping();
  } catch (err) {
    throw new Error(
      `Docker engine not reachable at ${socketPath}: run scripts/ensure-engine.sh (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

/** Removes containers (forced, with anonymous volumes), then networks and volumes labelled `TEST_LABEL=prefix`. */
export async function cleanupByLabel(
  prefix: string,
  docker: Dockerode = testDocker(),
): Promise<void> {
  const filters = { label: [`${TEST_LABEL}=${prefix}`] };
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(
    containers.map((c) =>
      retryBusy(() => ignoreMissing(docker.getContainer(c.Id).remove({ force: true, v: true }))),
    ),
  );
  const networks = await docker.listNetworks({ filters });
  await Promise.all(networks.map((n) => ignoreMissing(docker.getNetwork(n.Id).remove())));
  const volumes = await docker.listVolumes({ filters });
  await Promise.all(
    (volumes.Volumes ?? []).map((v) => ignoreMissing(docker.getVolume(v.Name).remove())),
  );
}

/** Removes every local image tag whose name starts with `repositoryPrefix` (e.g. `127.0.0.1:5050/bosun-test/x`). */
export async function removeImagesByPrefix(
  repositoryPrefix: string,
  docker: Dockerode = testDocker(),
): Promise<void> {
  const images = await docker.listImages();
  const tags = images
    .flatMap((i) => [...(i.RepoTags ?? []), ...(i.RepoDigests ?? [])])
    .filter((t) => t.startsWith(repositoryPrefix));
  for (const tag of tags) await ignoreMissing(docker.getImage(tag).remove({ force: true }));
}

/**
 * Right after a dockerd restart, overlay2 can briefly report "device or resource busy" while it
 * unmounts a container's root filesystem; the removal succeeds a moment later.
 */
async function retryBusy(remove: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await remove();
    } catch (err) {
      const busy = /device or resource busy/i.test(String((err as Error).message));
      if (!busy || attempt >= 10) throw err;
      await new Promise((resolve) => setTimeout(resolve, 300 * attempt));
    }
  }
}

async function ignoreMissing(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
}

/** A container a test made, as the engine's list shows it (no inspect). */
export interface SeenContainer {
  id: string;
  /** Without the leading slash. */
  name: string;
  appId: string;
  service: string;
  state: string;
}

/** Every container (running or not) carrying this test's owner label. */
export async function ownedContainers(prefix: string): Promise<SeenContainer[]> {
  const list = await testDocker().listContainers({
    all: true,
    filters: { label: [`${TEST_LABEL}=${prefix}`] },
  });
  return list.map((c) => ({
    id: c.Id,
    name: (c.Names[0] ?? '').slice(1),
    appId: c.Labels['io.balena.app-id'] ?? '',
    service: c.Labels['io.balena.service-name'] ?? '',
    state: c.State,
  }));
}
