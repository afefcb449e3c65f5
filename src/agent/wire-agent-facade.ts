/**
 * The agent facade's wiring: the one object the local API calls into (src/agent/agent.ts), over the
 * reconciler, the store, the engine and the device and cloud ports main.ts built. What the facade
 * reports as its settings is read again at every request, so a new target's config vars (or a switch
 * into or out of local mode) show without restarting the API.
 */
import type { HostAction } from '../api/agent-api.js';
import { Agent, type AgentDeps } from './agent.js';
import { agentHealthChecks, type NamedHealthCheck } from './health-checks.js';
import type { AgentSettings } from './ports.js';
import type { TargetLoader } from './target-loader.js';

type HealthSources = Parameters<typeof agentHealthChecks>[0];

export interface AgentFacadeDeps extends Omit<
  AgentDeps,
  'settings' | 'power' | 'healthChecks' | 'reconciler' | 'store'
> {
  reconciler: AgentDeps['reconciler'] & HealthSources['reconciler'];
  store: AgentDeps['store'] & HealthSources['store'];
  /** Whether the device is in local mode now (it can change at run time). */
  localMode: () => boolean;
  /** The last loaded target's device name and config vars. */
  targets: Pick<TargetLoader, 'deviceName' | 'storedConfig' | 'configVars'>;
  identity: { deviceType: string; arch: string };
  apiPort: number;
  /** Reboot and shutdown that wait for update locks; SUPERVISOR_OVERRIDE_LOCK forces them. */
  power: { request(action: HostAction, force: boolean): Promise<unknown> };
  /** Checks of the parts beyond the agent itself (the cloud connection), in /v1/healthy. */
  moreHealthChecks?: readonly NamedHealthCheck[];
}

export function wireAgentFacade(deps: AgentFacadeDeps): Agent {
  const { localMode, targets, identity, apiPort, power, moreHealthChecks, ...agentDeps } = deps;
  const configVars = (): (typeof targets.configVars)['config'] => targets.configVars.config;
  const settings = (): AgentSettings => ({
    localMode: localMode(),
    deviceName: targets.deviceName,
    deviceType: identity.deviceType,
    arch: identity.arch,
    apiPort,
    configVars: { ...targets.storedConfig },
    instantUpdates: configVars().instantUpdates,
    vpnEnabled: configVars().vpnControl,
  });
  return new Agent({
    ...agentDeps,
    settings,
    power: {
      request: (action, force) => power.request(action, force || configVars().lockOverride),
    },
    healthChecks: [
      ...agentHealthChecks({
        reconciler: deps.reconciler,
        store: deps.store,
        now: () => deps.clock.now(),
      }),
      ...(moreHealthChecks ?? []),
    ],
  });
}
