/**
 * Feature labels (docs/protocol.md#feature-labels): host access a service asks for with
 * `io.balena.features.*` labels. Returns what each enabled feature adds; labels must already be aliased from
 * `io.resin.*`.
 */
import type { ContainerCreateSpec, MountSpec } from '../container-spec.js';
import type { NormaliseContext } from '../context.js';
import { isTruthyLabel } from '../names.js';

type DeviceRequests = NonNullable<ContainerCreateSpec['HostConfig']['DeviceRequests']>;

export interface FeatureEffects {
  binds: string[];
  mounts: MountSpec[];
  /** Set regardless of the user's environment (keys and addresses must be the real ones). */
  env: Record<string, string>;
  /** Set only when the user did not set them. */
  envDefaults: Record<string, string>;
  deviceRequests: DeviceRequests;
  usesSupervisorApi: boolean;
}

export interface FeatureInput {
  labels: Readonly<Record<string, string>>;
  appId: number;
  serviceName: string;
  hostNetworking: boolean;
}

const FEATURE = 'io.balena.features.';
const ENGINE_SOCKET_IN_CONTAINER = '/host/run/balena-engine.sock';

function bothPrefixes(vars: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(vars)) {
    out[`BALENA_${key}`] = value;
    out[`RESIN_${key}`] = value;
  }
  return out;
}

export function featureEffects(input: FeatureInput, ctx: NormaliseContext): FeatureEffects {
  const has = (feature: string): boolean => isTruthyLabel(input.labels[FEATURE + feature]);
  const effects: FeatureEffects = {
    binds: [],
    mounts: [],
    env: {},
    envDefaults: {},
    deviceRequests: [],
    usesSupervisorApi: false,
  };

  if (has('journal-logs')) {
    effects.binds.push(
      '/var/log/journal:/var/log/journal:ro',
      '/run/log/journal:/run/log/journal:ro',
      '/etc/machine-id:/etc/machine-id:ro',
    );
  }
  if (has('dbus')) effects.binds.push('/run/dbus:/host/run/dbus');
  if (has('kernel-modules') && ctx.hostHasKernelModules)
    effects.binds.push('/lib/modules:/lib/modules');
  if (has('firmware') && ctx.hostHasFirmware) effects.binds.push('/lib/firmware:/lib/firmware');
  if (has('sysfs')) effects.binds.push('/sys:/sys');
  if (has('procfs')) effects.binds.push('/proc:/proc');
  if (has('extra-firmware')) effects.binds.push('extra-firmware:/extra-firmware');
  if (has('balena-socket')) {
    const targets = [
      ...new Set([ENGINE_SOCKET_IN_CONTAINER, ctx.engineSocketPath, '/var/run/balena.sock']),
    ];
    for (const target of targets)
      effects.mounts.push({ Type: 'bind', Source: ctx.engineSocketPath, Target: target });
    effects.envDefaults['DOCKER_HOST'] = `unix://${ENGINE_SOCKET_IN_CONTAINER}`;
  }
  if (has('gpu'))
    effects.deviceRequests.push({
      Driver: '',
      Count: 1,
      DeviceIDs: [],
      Capabilities: [['gpu']],
      Options: {},
    });
  if (has('balena-api'))
    Object.assign(
      effects.env,
      bothPrefixes({ API_KEY: ctx.deviceApiKey, API_URL: ctx.apiEndpoint }),
    );
  if (has('supervisor-api')) {
    effects.usesSupervisorApi = true;
    const host = input.hostNetworking ? '127.0.0.1' : ctx.supervisorNetworkGateway || '127.0.0.1';
    Object.assign(
      effects.env,
      bothPrefixes({
        SUPERVISOR_API_KEY: ctx.appApiKey(input.appId, input.serviceName),
        SUPERVISOR_PORT: String(ctx.listenPort),
        SUPERVISOR_HOST: host,
        SUPERVISOR_ADDRESS: `http://${host}:${ctx.listenPort}`,
      }),
    );
  }
  if (has('host-os.board-rev') && ctx.osBoardRev !== undefined) {
    Object.assign(
      effects.env,
      bothPrefixes({ HOST_OS_BOARD_REV: ctx.osBoardRev, HOST_OS_BUILD: ctx.osBoardRev }),
    );
  }
  return effects;
}
