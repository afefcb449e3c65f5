/**
 * What the log shipper needs of config.json, read afresh for every batch: the endpoint
 * (`logsEndpoint ?? apiEndpoint`, docs/protocol.md#cloud-log-stream), the uuid and the device key, once the
 * device is provisioned (it has a `deviceId` or `registered_at`: before that the cloud does not know the key,
 * and lines wait in the spool). Also the keep-alive agents the stream uses, the https one trusting
 * config.json's `balenaRootCA` (base64 PEM) besides the system roots when it is set.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { rootCertificates } from 'node:tls';
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

export function cloudAgents(balenaRootCA: unknown): { http: HttpAgent; https: HttpsAgent } {
  const extra =
    typeof balenaRootCA === 'string' && balenaRootCA !== ''
      ? Buffer.from(balenaRootCA, 'base64').toString('utf8')
      : undefined;
  return {
    http: new HttpAgent({ keepAlive: true, maxSockets: 2 }),
    https: new HttpsAgent({
      keepAlive: true,
      maxSockets: 2,
      ...(extra === undefined ? {} : { ca: [...rootCertificates, extra] }),
    }),
  };
}
