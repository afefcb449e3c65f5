/**
 * The scale scenario of issue 8, shared by test/e2e/scale.spec.ts (does the agent converge?) and
 * bench/scale.ts (how long, how much memory, against the engine floor). Three targets, pushed one
 * after the other to the agent process through its local API:
 *   1. one app of 60 services (each prints a line every few seconds, so 60 log follows stay open);
 *   2. the same 60 services with a changed environment (60 recreations);
 *   3. 60 services spread over 6 apps of 10 (the first app removed, six created).
 * Convergence is judged on the engine only: exactly the expected containers run, with the expected
 * commit in their name and the expected env.
 */
import { readFileSync } from 'node:fs';
import { ownedContainers, TEST_LABEL, type SeenContainer } from '../../support/docker.js';
import { TEST_IMAGES } from '../../support/images.js';

/** Prints a line every 3 s (log follows have something to carry) and exits at once on SIGTERM. */
export const CHATTY_CMD = [
  'sh',
  '-c',
  'trap "exit 0" TERM; while true; do echo "tick $(date +%s)"; sleep 3 & wait $!; done',
];

export interface ScaleApp {
  appId: number;
  commit: string;
  services: number;
  version: string;
}

export interface ScalePhase {
  name: string;
  apps: ScaleApp[];
}

export function scalePhases(baseAppId: number): ScalePhase[] {
  return [
    {
      name: 'one app of 60',
      apps: [{ appId: baseAppId, commit: 'one', services: 60, version: '1' }],
    },
    {
      name: 'env change of all 60',
      apps: [{ appId: baseAppId, commit: 'one', services: 60, version: '2' }],
    },
    {
      name: '60 over 6 apps',
      apps: Array.from({ length: 6 }, (_, i) => ({
        appId: baseAppId + 1 + i,
        commit: `six${i}`, // container names (<service>_<imageId>_<release>_<commit>) must differ across apps
        services: 10,
        version: '3',
      })),
    },
  ];
}

export const serviceName = (i: number): string => `s${String(i).padStart(2, '0')}`;

/** The v2 body balena-cli would post for these apps, everything labelled with the test's owner. */
export function scaleBody(prefix: string, apps: ScaleApp[]): unknown {
  const owner = { [TEST_LABEL]: prefix };
  return {
    local: {
      name: 'e2e-scale',
      config: {},
      apps: Object.fromEntries(
        apps.map((a) => [
          String(a.appId),
          {
            name: `scale${a.appId}`,
            commit: a.commit,
            releaseId: 1,
            services: Object.fromEntries(
              Array.from({ length: a.services }, (_, i) => [
                String(i + 1),
                {
                  serviceName: serviceName(i),
                  serviceId: i + 1,
                  imageId: i + 1,
                  image: TEST_IMAGES.busybox,
                  running: true,
                  environment: { VERSION: a.version },
                  labels: owner,
                  command: CHATTY_CMD,
                  stop_grace_period: '5s',
                },
              ]),
            ),
            networks: { default: { labels: owner } },
          },
        ]),
      ),
    },
  };
}

/**
 * Whether the engine shows exactly the phase's containers running. `replaced` are ids that must be
 * gone (an env change recreates every container even though names stay the same).
 */
export function isConverged(
  seen: SeenContainer[],
  phase: ScalePhase,
  replaced: ReadonlySet<string> = new Set(),
): boolean {
  const expected = phase.apps.reduce((n, a) => n + a.services, 0);
  if (seen.length !== expected) return false;
  return phase.apps.every((a) =>
    Array.from({ length: a.services }, (_, i) => serviceName(i)).every((s) =>
      seen.some(
        (c) =>
          c.appId === String(a.appId) &&
          c.service === s &&
          c.state === 'running' &&
          c.name.endsWith(`_${a.commit}`) &&
          !replaced.has(c.id),
      ),
    ),
  );
}

/** Polls the engine until the phase has converged, or throws after `timeoutMs` with what it saw. */
export async function waitConverged(
  prefix: string,
  phase: ScalePhase,
  replaced: ReadonlySet<string>,
  timeoutMs: number,
  describeAgent: () => Promise<string>,
): Promise<SeenContainer[]> {
  const deadline = Date.now() + timeoutMs;
  let seen: SeenContainer[] = [];
  while (Date.now() < deadline) {
    seen = await ownedContainers(prefix);
    if (isConverged(seen, phase, replaced)) return seen;
    await new Promise((r) => setTimeout(r, 500));
  }
  const running = seen.filter((c) => c.state === 'running').length;
  throw new Error(
    `"${phase.name}" did not converge in ${timeoutMs / 1000} s: ${seen.length} containers, ${running} running; agent: ${await describeAgent()}`,
  );
}

/** Resident and peak resident memory of a process, in MiB (Linux /proc). */
export function processMemoryMiB(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
}
