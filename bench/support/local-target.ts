/**
 * Gives an agent in local mode one app of long-sleeping services (POST /v2/local/target-state, the body
 * balena-cli posts) and waits until it reports the target applied. For benchmarks that measure an agent
 * at rest with services running (bench/idle.ts, bench/status-latency.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface SleepingService {
  name: string;
  image: string;
  environment?: Record<string, string>;
}

export async function applyLocalTarget(
  port: number,
  app: string,
  services: SleepingService[],
): Promise<void> {
  const body = {
    local: {
      name: `${app}-bench`,
      config: {},
      apps: {
        '1': {
          name: app,
          commit: `${app}1`,
          releaseId: 1,
          services: Object.fromEntries(
            services.map((s, i) => [
              String(i + 1),
              {
                serviceName: s.name,
                serviceId: i + 1,
                imageId: i + 1,
                image: s.image,
                command: ['sleep', '100000'],
                environment: s.environment ?? {},
                labels: {},
                restart: 'always',
                running: true,
              },
            ]),
          ),
          volumes: {},
          networks: {},
        },
      },
    },
    dependent: { apps: {}, devices: {} },
  };
  const res = await fetch(`http://127.0.0.1:${port}/v2/local/target-state`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`target refused: ${res.status} ${await res.text()}`);
  for (;;) {
    const status = (await (await fetch(`http://127.0.0.1:${port}/v2/state/status`)).json()) as {
      appState?: string;
    };
    if (status.appState === 'applied') return;
    await sleep(500);
  }
}
