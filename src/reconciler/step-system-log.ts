/**
 * Tells the user, as system lines in the device's log stream, what each step of an update does: its
 * start, its end, and its failure with the reason (docs/protocol.md#system-log-messages texts, worded by
 * step-system-events.ts). The reconciler calls it for every step outcome through its step listener;
 * main.ts also tells it which engine id each pulled image got, so a service installed in the same round
 * as its download is already shown with its `sha256:…` id, as balena-supervisor shows it.
 */
import type { CurrentState } from '../domain/model.js';
import type { StepOutcome } from '../executor/execute-plan.js';
import type { SystemLogger } from '../logs/system-logger.js';
import type { Step } from '../planner/index.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { StepListener } from './rounds.js';
import {
  namingFrom,
  stepSystemEvent,
  type ImageNaming,
  type StepPhase,
} from './step-system-events.js';

export interface StepSystemLogOptions {
  systemLogger: SystemLogger;
  logger: Logger;
  /** How often a lock wait is re-checked (the reconciler's lock poll), for the "retrying in" text. */
  lockRetryMs: number;
}

export class StepSystemLog implements StepListener {
  private readonly log: Logger;
  /** What this round learnt beyond its observation: reference → engine id, container name → image id. */
  private readonly pulled = new Map<string, string>();
  private readonly created = new Map<string, string>();
  private round: CurrentState | undefined;

  constructor(private readonly options: StepSystemLogOptions) {
    this.log = options.logger.child({ component: 'step-system-log' });
  }

  /** The step runner pulled `reference` and the engine calls it `engineId`. */
  imagePulled(reference: string, engineId: string): void {
    this.pulled.set(reference, engineId);
  }

  stepStarted(step: Step, current: CurrentState): void {
    this.say(step, 'start', current, undefined);
  }

  stepEnded(outcome: StepOutcome, current: CurrentState): void {
    const { step, status, error } = outcome;
    if (status === 'ok') {
      if (step.kind === 'createContainer') {
        const image = this.naming(current).imageId(step.service.image);
        if (image !== undefined) this.created.set(step.service.containerName, image);
      }
      this.say(step, 'ok', current, undefined);
      return;
    }
    // Skipped steps never ran, and a cancelled one was cut short by a newer target: no line for them.
    if (status !== 'failed' || error === undefined || error.code === 'CANCELLED') return;
    if (step.kind === 'takeLock' && error.code === 'UPDATES_LOCKED') {
      // balena words a lock wait this way; bosun re-reads the lock files at this interval.
      this.options.systemLogger.message(
        `Updates are locked, retrying in ${seconds(this.options.lockRetryMs)}. Reason: ${error.message}`,
        { isStdErr: true },
      );
      return;
    }
    this.say(step, 'failed', current, error);
  }

  private say(step: Step, phase: StepPhase, current: CurrentState, error: unknown): void {
    try {
      const line = stepSystemEvent(step, phase, this.naming(current));
      if (line !== undefined) this.options.systemLogger.event(line.event, line.subject, error);
    } catch (err) {
      // A log line must never break an update.
      this.log.warn('step-system-log.failed', { step: step.id, err: errorMessage(err) });
    }
  }

  /** The observation's names plus what this round's steps added; reset with each new observation. */
  private naming(current: CurrentState): ImageNaming {
    if (this.round !== current) {
      this.round = current;
      this.pulled.clear();
      this.created.clear();
    }
    const observed = namingFrom(current);
    return {
      containerImage: (ref) => observed.containerImage(ref) ?? this.created.get(ref),
      imageId: (reference) => observed.imageId(reference) ?? this.pulled.get(reference),
    };
  }
}

function seconds(ms: number): string {
  return `${Math.max(1, Math.round(ms / 1000))}s`;
}
