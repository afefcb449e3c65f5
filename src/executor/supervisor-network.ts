/**
 * The `supervisor0` bridge network (docs/protocol.md#supervisor-network): services with the supervisor-api
 * feature join it and reach the local API at its gateway. It must exist before such a container is created,
 * so the agent makes sure of it whenever the engine is (again) reachable. Same name, bridge name, subnet and
 * gateway as balena-supervisor's, so an existing device's network is reused as is.
 */
import type { EngineAdapter } from '../engine/port.js';
import type { Clock } from '../shared/clock.js';
import { isBosunError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

export const SUPERVISOR_NETWORK_NAME = 'supervisor0';
export const SUPERVISOR_SUBNET = '10.114.104.0/25';
export const SUPERVISOR_GATEWAY = '10.114.104.1';

/** Creates the network when missing; retries while the engine is unreachable. Never throws. */
export async function ensureSupervisorNetwork(
  engine: Pick<EngineAdapter, 'inspectNetwork' | 'createNetwork'>,
  logger: Logger,
  clock: Clock,
  signal?: AbortSignal,
): Promise<void> {
  const log = logger.child({ component: 'supervisor-network' });
  for (let attempt = 0; !signal?.aborted; attempt++) {
    try {
      await engine.inspectNetwork(SUPERVISOR_NETWORK_NAME);
      return;
    } catch (err) {
      if (isBosunError(err, 'NOT_FOUND')) {
        try {
          await engine.createNetwork({
            Name: SUPERVISOR_NETWORK_NAME,
            Driver: 'bridge',
            Options: { 'com.docker.network.bridge.name': SUPERVISOR_NETWORK_NAME },
            IPAM: {
              Driver: 'default',
              Config: [{ Subnet: SUPERVISOR_SUBNET, Gateway: SUPERVISOR_GATEWAY }],
            },
            Labels: {},
          });
          log.info('supervisor-network.created', { subnet: SUPERVISOR_SUBNET });
          return;
        } catch (createErr) {
          if (isBosunError(createErr, 'CONFLICT')) return; // created concurrently
          log.error('supervisor-network.create-failed', { err: createErr });
        }
      } else if (attempt === 0 || attempt % 20 === 0) {
        log.warn('supervisor-network.engine-waiting', { err });
      }
    }
    await clock
      .sleep(Math.min(250 * 2 ** Math.min(attempt, 5), 5_000), signal)
      .catch(() => undefined);
  }
}
