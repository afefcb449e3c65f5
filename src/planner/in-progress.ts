/**
 * Work already under way outside the rounds: a stop with a long grace period is run by the executor's
 * long-operation tracker, and the observation marks its container `stopping`. Planning that stop again
 * (the container still shows as running) would start a second one; instead the stop and everything that
 * waits for it (the removal, the new container) are withheld with a `containerStopping` blocker until the
 * stop has ended and a new round sees the container exited.
 */
import type { CurrentState } from '../domain/model.js';
import type { DraftPlan } from './draft.js';
import { withhold } from './prune.js';

export function withholdStopsInProgress(plan: DraftPlan, current: CurrentState): void {
  const stopping = current.containers.filter((c) => c.stopping === true);
  if (stopping.length === 0) return;
  const victims: string[] = [];
  for (const { step } of plan.drafts.values()) {
    if (step.kind !== 'stopContainer') continue;
    const container = stopping.find(
      (c) => c.id === step.containerId || c.name === step.containerId,
    );
    if (container === undefined) continue;
    victims.push(step.id);
    plan.block({
      kind: 'containerStopping',
      appUuid: container.appUuid,
      serviceName: container.serviceName,
    });
  }
  withhold(plan.drafts, victims);
}
