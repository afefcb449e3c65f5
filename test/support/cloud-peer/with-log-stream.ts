/**
 * The one cloud peer with its log stream mounted: `startCloudPeer` serving target, reports and the
 * device's `POST /device/v2/:uuid/log-stream` (./log-stream.ts) on the same server, so a test's device
 * talks to one cloud for everything, over the same connection pool, as it would in the field.
 *
 * The log stream accepts a device key the peer's model knows for that uuid (a provisioned device, or
 * one `registerDevice` put there), as the real API checks it. "Down" is the log stream's outage: open
 * streams are cut and new ones reset, while the rest of the API keeps answering; `dropConnections`
 * adds a cloud restart on top.
 */
import { startCloudPeer, type CloudPeer, type CloudPeerOptions, type PeerDevice } from './index.js';
import { logStreamPeerRoute, LogStreamState } from './log-stream.js';

export interface LogCloudPeer {
  peer: CloudPeer;
  /** The log stream's stored lines, requests and fault switches. */
  logs: LogStreamState;
  readonly url: string;
  /** Registers a device as already provisioned (config.json with `deviceId`), for tests that skip it. */
  registerDevice(uuid: string, deviceApiKey: string): PeerDevice;
  setDown(down: boolean): void;
  close(): Promise<void>;
}

export async function startLogCloudPeer(options: CloudPeerOptions = {}): Promise<LogCloudPeer> {
  // Called per request, so only once `started` below exists.
  const logs = new LogStreamState((uuid, authorization) => {
    const key = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    return key !== undefined && started.device(uuid)?.keys.has(key) === true;
  });
  const started: CloudPeer = await startCloudPeer({
    ...options,
    routes: [logStreamPeerRoute(logs), ...(options.routes ?? [])],
  });
  return {
    peer: started,
    logs,
    url: started.url,
    registerDevice: (uuid, deviceApiKey) =>
      started.model.register(uuid, 'generic-amd64', deviceApiKey),
    setDown: (down) => logs.setDown(down),
    close: () => started.close(),
  };
}
