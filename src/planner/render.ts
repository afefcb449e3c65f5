/**
 * A stable text form of a plan: one line per step (id, what it waits for, why), then one line per
 * blocker. Golden tests compare it and the agent writes it to its debug log.
 */
import type { Blocker, Plan } from './steps.js';
import { assertNever } from './steps.js';

export function renderPlan(plan: Plan): string {
  if (plan.steps.length === 0 && plan.blockers.length === 0) return '(converged)\n';
  const lines: string[] = [];
  for (const step of plan.steps) {
    const after = step.dependsOn.length > 0 ? ` after [${step.dependsOn.join(', ')}]` : '';
    lines.push(`${step.id}${after} — ${step.reason}`);
  }
  for (const blocker of plan.blockers) lines.push(`blocked: ${renderBlocker(blocker)}`);
  return `${lines.join('\n')}\n`;
}

export function renderBlocker(b: Blocker): string {
  switch (b.kind) {
    case 'imageDownloading':
      return `${b.kind} ${b.appUuid}/${b.serviceName} ${b.image} (${b.progress === undefined ? '?' : `${b.progress}%`})`;
    case 'dependencyNotReady':
      return `${b.kind} ${b.appUuid}/${b.serviceName} waits for ${b.dependency} (${b.condition})`;
    case 'locked':
    case 'waitingForAllImages':
    case 'containerStopping':
    case 'rebootRequired':
      return `${b.kind} ${b.appUuid}/${b.serviceName}`;
    case 'backoff':
      return `${b.kind} ${b.appUuid ?? '-'}/${b.serviceName ?? '-'} ${b.stepId} until ${b.until}: ${b.error}`;
    case 'handoverPending':
    case 'outsideUpdateWindow':
      return `${b.kind} ${b.appUuid}/${b.serviceName} until ${b.until}`;
    case 'resourceInUse':
      return `${b.kind} ${b.appUuid} ${b.resource} used by [${b.usedBy.join(', ')}]`;
    case 'insufficientStorage':
      return `${b.kind} ${b.appUuid}/${b.serviceName} ${b.image} needs ${b.bytesNeeded} B, ${b.bytesFree} B free, ${b.bytesReserved} B reserved`;
    default:
      return assertNever(b);
  }
}
