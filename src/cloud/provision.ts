/**
 * Provisioning (docs/protocol.md#provisioning, with what openBalena v49 taught:
 * test/fixtures/cloud/README.md).
 *
 * The device API key is generated and written to config.json before anything is sent (ConfigJsonFile
 * does that at open), and registration carries it as `api_key`, so a crash between the two steps cannot
 * strand the device: after a restart the same uuid and key register again, or the 409 path finds that
 * the key already works.
 *
 * 409 (uuid exists): check the device key (`GET /v7/device` with it). If it works, go on. If not, try the
 * key exchange with the provisioning key; v49 closed it for provisioning keys (401), so the device then
 * takes a new identity (uuid + key) and registers afresh, logged loudly since the old device entry in the
 * dashboard is orphaned.
 *
 * 401 on register (provisioning key refused) or 404 (unknown device type) are configuration errors: one
 * clear PROVISIONING_REJECTED error, retried only hourly (no busy loop). The cloud unreachable or 5xx:
 * retried with backoff (from config.json bootstrapRetryDelay, doubling, capped), Retry-After honoured.
 *
 * The provisioning key leaves config.json only once the device key is known to work.
 */
import { nodeCrypto } from '../shared/node-crypto.js';
import type { Clock } from '../shared/clock.js';
import { BosunError, errorMessage, isBosunError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { CloudStatusError, jsonOf, statusError, type CloudClient } from './cloud-client.js';
import type { CloudConfigFile } from './ports.js';

export interface RegistrationFacts {
  deviceType: string;
  supervisorVersion: string;
  osVersion: string | undefined;
  osVariant: string | undefined;
  macAddress: string | undefined;
}

export interface ProvisionDeps {
  client: Pick<CloudClient, 'request'>;
  config: CloudConfigFile;
  facts: () => Promise<RegistrationFacts>;
  clock: Clock;
  logger: Logger;
  /** First retry delay (config.json bootstrapRetryDelay, default 30 s). */
  retryBaseMs?: number;
  retryCapMs?: number;
  /** Between attempts after PROVISIONING_REJECTED. */
  rejectedRetryMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_RETRY_BASE_MS = 30_000;
const DEFAULT_RETRY_CAP_MS = 15 * 60_000;
const REJECTED_RETRY_MS = 60 * 60_000;

export function isProvisioned(value: CloudConfigFile['value']): boolean {
  return (
    value.registered_at !== undefined && value.deviceId !== undefined && value.apiKey === undefined
  );
}

/** Runs until the device is provisioned (resolves with its id) or `signal` aborts. */
export async function provisionDevice(deps: ProvisionDeps): Promise<number> {
  const log = deps.logger.child({ component: 'cloud-provision' });
  let failures = 0;
  for (;;) {
    if (isProvisioned(deps.config.value) && deps.config.value.deviceId !== undefined)
      return deps.config.value.deviceId;
    let delay: number;
    try {
      const id = await provisionOnce(deps, log);
      log.info('cloud.provisioned', { deviceId: id, uuid: deps.config.value.uuid });
      return id;
    } catch (err) {
      if (isBosunError(err, 'PROVISIONING_REJECTED')) {
        log.error('cloud.provisioning-rejected', { code: err.code, message: err.message });
        delay = deps.rejectedRetryMs ?? REJECTED_RETRY_MS;
      } else {
        failures += 1;
        const base = deps.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
        const backoff = Math.min(
          deps.retryCapMs ?? DEFAULT_RETRY_CAP_MS,
          base * 2 ** Math.min(failures - 1, 20),
        );
        const retryAfter = err instanceof CloudStatusError ? err.retryAfterSeconds : undefined;
        delay = retryAfter === undefined ? backoff : Math.max(retryAfter * 1000, base);
        log.warn('cloud.provisioning-retry', {
          code: isBosunError(err) ? err.code : undefined,
          message: errorMessage(err),
          retryInMs: delay,
        });
      }
    }
    await deps.clock.sleep(delay, deps.signal);
  }
}

async function provisionOnce(deps: ProvisionDeps, log: Logger): Promise<number> {
  const value = deps.config.value;
  if (value.registered_at === undefined) {
    const registered = await register(deps);
    if (registered !== 'exists') {
      await confirmKeyAndFinish(deps, registered);
      return registered;
    }
    log.warn('cloud.register-conflict', {
      uuid: value.uuid,
      message: 'the uuid is already registered; checking the device key',
    });
  }
  // Registered before (or a 409): does our device key work?
  const id = await deviceIdWithKey(deps, deps.config.value.deviceApiKey);
  if (id !== undefined) {
    await confirmKeyAndFinish(deps, id);
    return id;
  }
  const exchanged = await exchangeKey(deps, log);
  if (exchanged !== undefined) {
    await confirmKeyAndFinish(deps, exchanged);
    return exchanged;
  }
  // No way to prove this device owns the uuid: take a new identity and register afresh.
  const uuid = nodeCrypto().randomBytes(16).toString('hex');
  log.error('cloud.new-identity', {
    oldUuid: deps.config.value.uuid,
    newUuid: uuid,
    message:
      'the cloud has this uuid but does not accept this device key and refuses the key exchange: registering as a new device (the old entry stays in the dashboard)',
  });
  await deps.config.update({
    uuid,
    deviceApiKey: nodeCrypto().randomBytes(16).toString('hex'),
    registered_at: null,
    deviceId: null,
  });
  throw new BosunError('CLOUD_ERROR', 'new identity taken; registering again');
}

/** POST /device/register: the device id, or 'exists' on 409. */
async function register(deps: ProvisionDeps): Promise<number | 'exists'> {
  const value = deps.config.value;
  if (value.apiKey === undefined || value.applicationId === undefined)
    throw new BosunError(
      'PROVISIONING_REJECTED',
      `config.json needs ${value.apiKey === undefined ? 'apiKey (the provisioning key)' : 'applicationId (the fleet id)'} to register the device`,
    );
  const facts = await deps.facts();
  const body: Record<string, unknown> = {
    application: value.applicationId,
    uuid: value.uuid,
    device_type: facts.deviceType,
    api_key: value.deviceApiKey,
    supervisor_version: facts.supervisorVersion,
  };
  if (facts.osVersion !== undefined) body['os_version'] = facts.osVersion;
  if (facts.osVariant !== undefined) body['os_variant'] = facts.osVariant;
  if (facts.macAddress !== undefined) body['mac_address'] = facts.macAddress;
  const what = 'POST /device/register';
  const answer = await deps.client.request({
    method: 'POST',
    path: '/device/register',
    key: value.apiKey,
    body,
    signal: deps.signal,
  });
  if (answer.status === 201) {
    const created = jsonOf(answer, what);
    const id = (created as { id?: unknown } | null)?.id;
    if (typeof id !== 'number' || !Number.isInteger(id))
      throw new BosunError('CLOUD_BAD_ANSWER', `${what}: 201 without a numeric device id`);
    // Written at once: a crash after this point takes the 409 path no more.
    await deps.config.update({ registered_at: deps.clock.now(), deviceId: id });
    return id;
  }
  if (answer.status === 409) return 'exists';
  if (answer.status === 401 || answer.status === 403)
    throw new BosunError(
      'PROVISIONING_REJECTED',
      `${what}: the cloud refused the provisioning key in config.json apiKey (${answer.status})`,
    );
  if (answer.status === 404 || answer.status === 400) {
    const text = answer.body.toString('utf8').slice(0, 200);
    throw new BosunError(
      'PROVISIONING_REJECTED',
      `${what}: the cloud refused the registration (${answer.status} ${text}); device type ${facts.deviceType}, fleet ${value.applicationId}`,
    );
  }
  throw statusError(answer, what);
}

/** `GET /v7/device?$select=id&$filter=uuid eq '<uuid>'` with `key`: the id, or undefined when refused/absent. */
async function deviceIdWithKey(deps: ProvisionDeps, key: string): Promise<number | undefined> {
  const uuid = deps.config.value.uuid;
  const path = `/v7/device?$select=id&$filter=${encodeURIComponent(`uuid eq '${uuid}'`)}`;
  const answer = await deps.client.request({ method: 'GET', path, key, signal: deps.signal });
  if (answer.status === 401 || answer.status === 403) return undefined;
  if (answer.status !== 200) throw statusError(answer, 'GET /v7/device');
  const found = (jsonOf(answer, 'GET /v7/device') as { d?: Array<{ id?: unknown }> } | null)?.d?.[0]
    ?.id;
  return typeof found === 'number' ? found : undefined;
}

/**
 * Key exchange (docs/protocol.md#key-exchange) with the provisioning key; undefined when the cloud does not
 * allow it (v49).
 */
async function exchangeKey(deps: ProvisionDeps, log: Logger): Promise<number | undefined> {
  const provisioningKey = deps.config.value.apiKey;
  if (provisioningKey === undefined) return undefined;
  const id = await deviceIdWithKey(deps, provisioningKey);
  if (id === undefined) {
    log.warn('cloud.key-exchange-unavailable', {
      message: 'the provisioning key cannot read the device',
    });
    return undefined;
  }
  const answer = await deps.client.request({
    method: 'POST',
    path: `/api-key/device/${id}/device-key`,
    key: provisioningKey,
    body: { apiKey: deps.config.value.deviceApiKey },
    signal: deps.signal,
  });
  if (answer.status !== 200) {
    log.warn('cloud.key-exchange-refused', { status: answer.status });
    return undefined;
  }
  log.info('cloud.key-exchanged', { deviceId: id });
  return id;
}

/** Checks the device key reads the device, then records the id and drops the provisioning key. */
async function confirmKeyAndFinish(deps: ProvisionDeps, id: number): Promise<void> {
  const seen = await deviceIdWithKey(deps, deps.config.value.deviceApiKey);
  if (seen !== id)
    throw new BosunError('CLOUD_ERROR', `the device key does not read device ${id} yet; retrying`);
  await deps.config.update({
    registered_at: deps.config.value.registered_at ?? deps.clock.now(),
    deviceId: id,
    apiKey: null,
  });
}
