/**
 * The initial config report (docs/protocol.md#initial-config-report), once per cloud: after provisioning, the device's
 * own config vars that the fleet's target does not set and that differ from their defaults are
 * created on the device in the cloud (`POST /v7/device_config_variable`, name `RESIN_<VAR>`), so the
 * cloud's target does not reset what the device was set up with (e.g. config.json
 * `appUpdatePollInterval` or `persistentLogging`). Then config.json `initialDeviceName`, if set, becomes
 * the device's name (`PATCH /v7/device(<id>)`; a failure is only said, as balena does). The endpoint it
 * was reported to is stored (DB `initialConfigReported`): moving to another cloud reports again.
 *
 * SUPERVISOR_LOCAL_MODE and SUPERVISOR_VPN_CONTROL are reported as `false` and `true` by upstream, which
 * are their defaults: so they are never reported. A device in local mode does not push that to its fleet.
 */
import { BosunError, errorMessage, isBosunError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { statusError, type CloudClient } from './cloud-client.js';
import type { CloudSystemLog } from './ports.js';

const PREFIXES = ['BALENA_', 'RESIN_', ''] as const;
/** Forced to their defaults before the comparison (upstream's special cases). */
const FORCED: Readonly<Record<string, string>> = {
  SUPERVISOR_LOCAL_MODE: 'false',
  SUPERVISOR_VPN_CONTROL: 'true',
};

export interface InitialConfigDeps {
  client: Pick<CloudClient, 'request'>;
  endpoint: string;
  key: () => string;
  deviceId: () => number | undefined;
  /** The endpoint the initial config was last reported to ('' or undefined: never). */
  reportedTo: () => Promise<string | undefined>;
  markReported: (endpoint: string) => Promise<void>;
  /** The device's current config vars, unprefixed names, values as text. */
  current: () => Readonly<Record<string, string>>;
  /** The defaults of the same vars, as text. */
  defaults: Readonly<Record<string, string>>;
  /** config.json initialDeviceName. */
  initialDeviceName: string | undefined;
  systemLog: CloudSystemLog;
  logger: Logger;
}

/** Vars worth reporting: absent from the target (under any prefix) and not at their default. */
export function varsToReport(
  current: Readonly<Record<string, string>>,
  defaults: Readonly<Record<string, string>>,
  targetConfig: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(current)) {
    const value = FORCED[name] ?? raw;
    if (PREFIXES.some((prefix) => `${prefix}${name}` in targetConfig)) continue;
    if (defaults[name] === value) continue;
    out[name] = value;
  }
  return out;
}

/**
 * Reports once: `already` when done earlier, `reported` when done now. Throws when the cloud could not take it (retried by
 * the caller). `targetConfig` is the config of the target the cloud just served.
 */
export async function reportInitialConfig(
  deps: InitialConfigDeps,
  targetConfig: Readonly<Record<string, string>>,
): Promise<'already' | 'reported'> {
  if ((await deps.reportedTo()) === deps.endpoint) return 'already';
  const deviceId = deps.deviceId();
  if (deviceId === undefined)
    throw new BosunError('NOT_READY', 'the device id is not known yet (not provisioned)');
  const log = deps.logger.child({ component: 'cloud-initial-config' });
  const vars = varsToReport(deps.current(), deps.defaults, targetConfig);
  for (const [name, value] of Object.entries(vars)) {
    const answer = await deps.client.request({
      method: 'POST',
      path: '/v7/device_config_variable',
      key: deps.key(),
      body: { value, device: deviceId, name: `RESIN_${name}` },
    });
    // 409: the variable exists already (a report cut short after this POST): nothing left to do for it.
    if (answer.status !== 201 && answer.status !== 409)
      throw statusError(answer, 'POST /v7/device_config_variable');
    log.info('cloud.initial-config-var', { name: `RESIN_${name}`, value });
  }
  if (deps.initialDeviceName !== undefined && deps.initialDeviceName !== '') {
    try {
      const answer = await deps.client.request({
        method: 'PATCH',
        path: `/v7/device(${deviceId})`,
        key: deps.key(),
        body: { device_name: deps.initialDeviceName },
      });
      if (answer.status < 200 || answer.status >= 300)
        throw statusError(answer, `PATCH /v7/device(${deviceId})`);
      log.info('cloud.initial-device-name', { name: deps.initialDeviceName });
    } catch (err) {
      // Unreachable: retried with the rest. Refused: said and left (upstream only logs it).
      if (isBosunError(err, 'CLOUD_UNREACHABLE')) throw err;
      log.warn('cloud.initial-device-name-failed', { message: errorMessage(err) });
      deps.systemLog.message('Unable to report initial device name to API', { isStdErr: true });
    }
  }
  await deps.markReported(deps.endpoint);
  log.info('cloud.initial-config-reported', {
    endpoint: deps.endpoint,
    vars: Object.keys(vars).length,
  });
  return 'reported';
}
