/**
 * Shared set-up of the cloud binding's integration tests: an HTTPS cloud peer, a real config.json and a
 * real SQLite store in a temp dir, and a reconciler stand-in whose status the test sets (the real
 * reconciler is exercised end to end in test/e2e/cloud.spec.ts).
 */
import { writeFileSync } from 'node:fs';
import { CloudClient } from '../../../../src/cloud/cloud-client.js';
import type { CloudReconciler, CloudTargetStore } from '../../../../src/cloud/ports.js';
import { ConfigJsonFile } from '../../../../src/config/config-json-file.js';
import type { ReconcileStatus } from '../../../../src/reconciler/status.js';
import { silentLogger } from '../../../../src/shared/logger.js';
import { openStore } from '../../../../src/store/open-store.js';
import type { Store } from '../../../../src/store/ports.js';
import {
  makePeerTls,
  startCloudPeer,
  type CloudPeer,
  type CloudPeerOptions,
  type PeerTls,
} from '../../../support/cloud-peer/index.js';
import { makeTempDir, type TempDir } from '../../../support/store-temp.js';

/** One CA per test process: RSA key generation is the slowest part of starting a peer. */
let sharedTls: PeerTls | undefined;

export const FLEET_UUID = '1d3ca6b8e3f44bc7ad45d0b628b43554';

export function twoServiceRelease(commit: string, env: Record<string, string> = {}) {
  return {
    id: parseInt(commit.slice(0, 6), 16),
    commit,
    services: {
      main: {
        id: 1,
        image_id: 11,
        image: `127.0.0.1:5050/v2/main-${commit.slice(0, 4)}@sha256:${'1'.repeat(64)}`,
        environment: env,
        labels: {},
        composition: { command: ['sleep', 'infinity'] },
      },
      sidecar: {
        id: 2,
        image_id: 12,
        image: `127.0.0.1:5050/v2/sidecar-${commit.slice(0, 4)}@sha256:${'2'.repeat(64)}`,
        environment: {},
        labels: {},
        composition: { command: ['sleep', 'infinity'] },
      },
    },
  };
}

export class StubReconciler implements CloudReconciler {
  current: ReconcileStatus = {
    appState: 'applied',
    phase: 'converged',
    rounds: 0,
    lastAppliedAt: undefined,
    lastError: undefined,
    lastProgressAt: undefined,
    apps: {},
  };
  readonly applies: Array<{ force: boolean }> = [];
  private readonly listeners = new Set<(s: ReconcileStatus) => void>();

  status(): ReconcileStatus {
    return this.current;
  }
  triggerApply(options: { force: boolean }): void {
    this.applies.push(options);
  }
  onStatus(listener: (s: ReconcileStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(status: ReconcileStatus): void {
    this.current = status;
    for (const l of this.listeners) l(status);
  }
}

export interface CloudHarness {
  peer: CloudPeer;
  dir: TempDir;
  config: ConfigJsonFile;
  store: Store;
  targets: CloudTargetStore;
  client: CloudClient;
  close(): Promise<void>;
}

export async function startHarness(
  options: {
    peer?: CloudPeerOptions;
    /** Extra config.json content (the cloud's address, provisioning key and fleet are filled in). */
    configJson?: Record<string, unknown>;
    /** Provisioned already: the peer knows the device and config.json says so. */
    provisioned?: boolean;
  } = {},
): Promise<CloudHarness> {
  sharedTls ??= makePeerTls();
  const peer = await startCloudPeer({ minPollIntervalMs: 10_000, tls: sharedTls, ...options.peer });
  const dir = makeTempDir('bosun-cloud-');
  const base: Record<string, unknown> = {
    apiEndpoint: peer.url,
    apiKey: peer.provisioningKey,
    applicationId: 1,
    deviceType: 'generic-amd64',
    balenaRootCA: peer.balenaRootCA,
    ...options.configJson,
  };
  if (options.provisioned === true) {
    const uuid = 'c'.repeat(32);
    const deviceApiKey = 'k'.repeat(32);
    const device = peer.model.register(uuid, 'generic-amd64', deviceApiKey);
    Object.assign(base, { uuid, deviceApiKey, registered_at: Date.now(), deviceId: device.id });
    delete base['apiKey'];
  }
  writeFileSync(dir.file('config.json'), JSON.stringify(base));
  const config = await ConfigJsonFile.open(dir.file('config.json'), silentLogger());
  const store = await openStore({ path: dir.file('bosun.sqlite'), logger: silentLogger() });
  const origin = { kind: 'cloud' as const, endpoint: peer.url };
  const client = new CloudClient({ endpoint: peer.url, rootCaBase64: peer.balenaRootCA });
  return {
    peer,
    dir,
    config,
    store,
    targets: { save: (t) => store.targets.save(origin, t), load: () => store.targets.load(origin) },
    client,
    close: async () => {
      client.close();
      await store.close();
      await peer.close();
      dir.remove();
    },
  };
}
