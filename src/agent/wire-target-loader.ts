/**
 * The target loader's wiring: what the reconciler loads each round is the stored target of the current
 * origin (local in local mode, else the cloud's), normalised with this device's facts as they are now,
 * and the config vars that live in config.json mirrored there when a cloud target changes them.
 */
import { existsSync } from 'node:fs';
import { mirrorConfigVarsToConfigJson } from '../config/config-json-mirror.js';
import type { ConfigJsonFile } from '../config/config-json-file.js';
import { DEFAULT_SUPERVISOR_NETWORK } from '../domain/context.js';
import type { Logger } from '../shared/logger.js';
import type { TargetOrigin } from '../store/ports.js';
import { TargetLoader, type TargetLoaderDeps } from './target-loader.js';

export interface TargetLoaderWiringDeps extends Pick<
  TargetLoaderDeps,
  'targets' | 'apiKeys' | 'beforeLoad'
> {
  configJson: ConfigJsonFile;
  /** The device's identity (src/device/identity.ts); the OS facts are read at each load. */
  identity: {
    deviceType: string;
    arch: string;
    osVersion(): Promise<string | undefined>;
    osBoardRev(): Promise<string | undefined>;
    hostname(): string;
  };
  localMode: () => boolean;
  cloudOrigin: TargetOrigin;
  listenPort: number;
  lockRoot: string;
  engineSocketPath: string;
  logger: Logger;
}

export function wireTargetLoader(deps: TargetLoaderWiringDeps): TargetLoader {
  const { configJson, identity, localMode, logger } = deps;
  return new TargetLoader({
    targets: deps.targets,
    apiKeys: deps.apiKeys,
    origin: () => (localMode() ? { kind: 'local' } : deps.cloudOrigin),
    beforeLoad: deps.beforeLoad,
    context: async () => ({
      deviceUuid: configJson.value.uuid ?? '',
      deviceType: identity.deviceType,
      deviceArch: identity.arch,
      osVersion: (await identity.osVersion()) ?? 'unknown',
      osBoardRev: await identity.osBoardRev(),
      hostname: configJson.value.hostname ?? identity.hostname(),
      apiEndpoint: configJson.value.apiEndpoint ?? '',
      deviceApiKey: configJson.value.deviceApiKey ?? '',
      supervisorNetworkGateway: DEFAULT_SUPERVISOR_NETWORK.gateway,
      listenPort: deps.listenPort,
      source: localMode() ? 'local' : 'cloud',
      lockRoot: deps.lockRoot,
      engineSocketPath: deps.engineSocketPath,
      hostHasKernelModules: existsSync('/lib/modules'),
      hostHasFirmware: existsSync('/lib/firmware'),
    }),
    // SUPERVISOR_POLL_INTERVAL and SUPERVISOR_PERSISTENT_LOGGING live in config.json (atomic write).
    configChanged: async (config, origin) => {
      if (origin.kind !== 'cloud') return;
      await mirrorConfigVarsToConfigJson(configJson, config, logger).catch((err: unknown) =>
        logger.child({ component: 'main' }).error('config-json.write-failed', { err }),
      );
    },
    logger,
  });
}
