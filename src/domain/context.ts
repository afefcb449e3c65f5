/**
 * Device facts that normalisation injects into containers (docs/protocol.md#injected-environment). Passed in
 * fresh on every reconcile, so a changed hostname, API key or OS version reaches the next plan without
 * re-validating.
 */
import type { TargetSource } from './model.js';

export interface NormaliseContext {
  deviceUuid: string;
  /** Current device name (BALENA_DEVICE_NAME_AT_INIT; not part of the config hash). */
  deviceName: string;
  /** Device type slug, e.g. `raspberrypi4-64`. */
  deviceType: string;
  /** e.g. `aarch64`, `amd64`. */
  deviceArch: string;
  /** os-release PRETTY_NAME. */
  osVersion: string;
  /** os-release BALENA_BOARD_REV (or RESIN_BOARD_REV), when the OS has one. */
  osBoardRev: string | undefined;
  /** Host name given to host-networked services without their own `hostname`. */
  hostname: string;
  /** Cloud API endpoint (BALENA_API_URL); '' when unmanaged. */
  apiEndpoint: string;
  deviceApiKey: string;
  /** Address of the local API as seen from the `supervisor0` network (its gateway, 10.114.104.1 on balena). */
  supervisorNetworkGateway: string;
  /** Port of the local API. */
  listenPort: number;
  /** App-scoped API key for services with the supervisor-api feature. */
  appApiKey: (appId: number, serviceName: string) => string;
  /** Where this target came from. */
  source: TargetSource;
  /** Host directory holding per-service lock directories (balena: `/tmp/balena-supervisor`). */
  lockRoot: string;
  /** Engine socket path on the host (for the balena-socket feature). */
  engineSocketPath: string;
  /** Whether `/lib/modules` and `/lib/firmware` exist on the host (kernel-modules / firmware features). */
  hostHasKernelModules: boolean;
  hostHasFirmware: boolean;
}

/**
 * Name of the bridge network services with the supervisor-api feature join
 * (docs/protocol.md#supervisor-network).
 */
export const SUPERVISOR_NETWORK = 'supervisor0';

/** The supervisor network as the agent creates it when missing (planner step `createSupervisorNetwork`). */
export interface SupervisorNetworkSpec {
  name: string;
  subnet: string;
  gateway: string;
}

/**
 * Same name, bridge name, subnet and gateway as balena-supervisor's, so an existing device's network is
 * reused as is.
 */
export const DEFAULT_SUPERVISOR_NETWORK: SupervisorNetworkSpec = {
  name: SUPERVISOR_NETWORK,
  subnet: '10.114.104.0/25',
  gateway: '10.114.104.1',
};
