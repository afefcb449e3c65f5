/**
 * The dashboard's and `bosun status`'s words for the cloud link of a managed device: reachable or not,
 * since when, the last error, and that the device keeps running its stored target meanwhile. Pure.
 */
import type { CloudConnectivity } from '../api/agent-api.js';
import { clockTime } from './dashboard-view.js';

export function describeCloudConnectivity(
  cloud: CloudConnectivity,
  time: (epochMs: number) => string = clockTime,
): string {
  const where = `cloud: ${cloud.endpoint}`;
  if (!cloud.provisioned) return `${where}, registering this device`;
  const lastPoll =
    cloud.lastSuccessfulPollAt === null
      ? 'no successful poll since the agent started'
      : `last successful poll ${time(cloud.lastSuccessfulPollAt)}`;
  const check = cloud.connectivityCheck === 'disconnected' ? '; its address does not answer' : '';
  if (cloud.reachable === null) return `${where}, first poll pending${check}`;
  if (cloud.reachable) return `${where}, reachable (${lastPoll})`;
  const since = cloud.offlineSince === null ? '' : ` since ${time(cloud.offlineSince)}`;
  const error = cloud.lastError === null ? '' : ` (${cloud.lastError})`;
  return `${where}, unreachable${since}${error}${check}; running the stored target (${lastPoll})`;
}
