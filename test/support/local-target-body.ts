/**
 * The v2 body balena-cli posts to an agent in local mode (POST /v2/local/target-state), for one app of
 * looping busybox-style services, every object carrying the test's owner label.
 */
import { TEST_LABEL } from './docker.js';

export interface LocalService {
  name: string;
  env?: Record<string, string>;
  /** Mount the app's `data` volume at /data. */
  data?: boolean;
  labels?: Record<string, string>;
}

/** Exits 0 at once on SIGTERM. */
export const LOOP_CMD = ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1 & wait $!; done'];

/**
 * The v2 body balena-cli posts in local mode, for one app whose services, `data` volume and `default`
 * network all carry the test's owner label (so only this test's agent sees them).
 */
export function localTargetBody(
  prefix: string,
  appId: number,
  commit: string,
  releaseId: number,
  image: string,
  services: LocalService[],
): unknown {
  const owner = { [TEST_LABEL]: prefix };
  return {
    local: {
      name: 'e2e-device',
      config: {},
      apps: {
        [String(appId)]: {
          name: 'e2e',
          commit,
          releaseId,
          services: Object.fromEntries(
            services.map((s, i) => [
              String(i + 1),
              {
                serviceName: s.name,
                serviceId: i + 1,
                imageId: i + 1,
                image,
                running: true,
                environment: s.env ?? {},
                labels: { ...owner, ...(s.labels ?? {}) },
                command: LOOP_CMD,
                stop_grace_period: '5s',
                ...(s.data === true ? { volumes: ['data:/data'] } : {}),
              },
            ]),
          ),
          volumes: { data: { labels: owner } },
          networks: { default: { labels: owner } },
        },
      },
    },
  };
}
