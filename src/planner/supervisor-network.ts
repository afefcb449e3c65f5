/**
 * The supervisor network (docs/protocol.md#supervisor-network): services with the supervisor-api feature join it and reach
 * the local API at its gateway, so it must exist before such a container is created. When the observer
 * saw it missing, the plan creates it (device-wide, once) and every container that joins it waits for
 * that step. Planned whether or not a service needs it now: balena-supervisor keeps it on every device,
 * and a service that gains the feature later must not wait for a restart of the agent.
 */
import type { CurrentState } from '../domain/model.js';
import type { PlanContext } from './context.js';
import type { DraftPlan } from './draft.js';
import { stepIds } from './ids.js';

export function requireSupervisorNetwork(
  plan: DraftPlan,
  current: CurrentState,
  ctx: PlanContext,
): void {
  const spec = ctx.supervisorNetwork;
  // Undefined: the agent does not manage it (or nobody looked); true: it is there.
  if (spec === undefined || current.supervisorNetwork !== false) return;
  const id = plan.add({
    kind: 'createSupervisorNetwork',
    id: stepIds.createSupervisorNetwork(spec.name),
    reason: `the ${spec.name} network, through which services with the supervisor API reach it, is missing`,
    dependsOn: [],
    appUuid: undefined,
    network: spec,
  });
  for (const draft of plan.drafts.values()) {
    const { step } = draft;
    if (step.kind !== 'createContainer') continue;
    const endpoints = step.service.createSpec.NetworkingConfig?.EndpointsConfig ?? {};
    const joins =
      endpoints[spec.name] !== undefined ||
      step.service.createSpec.HostConfig.NetworkMode === spec.name;
    if (joins) draft.step = { ...step, dependsOn: [...step.dependsOn, id] };
  }
}
