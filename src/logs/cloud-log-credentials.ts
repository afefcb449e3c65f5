/**
 * What the log shipper needs of config.json, read afresh for every batch: the endpoint
 * (`logsEndpoint ?? apiEndpoint`, docs/protocol.md#cloud-log-stream), the uuid and the device key, once the device is
 * provisioned (it has a `deviceId` or `registered_at`: before that the cloud does not know the key, and
 * lines wait in the spool). The connection itself (keep-alive, trust in `balenaRootCA`) is the cloud
 * client's, handed in by main.ts.
 */
import type { LogStreamCredentials } from './cloud-log-shipper.js';

export interface CloudConfigFields {
  apiEndpoint?: string | undefined;
  logsEndpoint?: string | undefined;
  uuid?: string | undefined;
  deviceApiKey?: string | undefined;
  deviceId?: number | undefined;
  registered_at?: number | undefined;
}

export function logStreamCredentials(config: CloudConfigFields): LogStreamCredentials | undefined {
  const endpoint = config.logsEndpoint || config.apiEndpoint;
  if (!endpoint || !config.uuid || !config.deviceApiKey) return undefined;
  if (config.deviceId === undefined && config.registered_at === undefined) return undefined;
  return { endpoint, uuid: config.uuid, deviceApiKey: config.deviceApiKey };
}
