/**
 * Runs a plan's steps as a DAG through `dependsOn`: at most `concurrency` at a time, in plan order among
 * the ready ones, stopping early on abort. It decides nothing: each step is handed to `runStep`, and the
 * outcome of every step is recorded (ok / failed / skipped because a dependency did not succeed /
 * cancelled). A step whose dependency is unknown or part of a cycle is skipped with an INTERNAL error,
 * because that is a planner bug, not something to guess around.
 */
import type { Step } from '../planner/index.js';
import { BosunError, toBosunError } from '../shared/errors.js';

export type StepStatus = 'ok' | 'failed' | 'skipped' | 'cancelled' | 'started';

export interface StepOutcome {
  step: Step;
  status: StepStatus;
  /** Why it failed, was skipped (the failed dependency) or was cancelled. */
  error: BosunError | undefined;
}

export interface ExecutionResult {
  /** In plan order. */
  outcomes: StepOutcome[];
  /** Every step succeeded or was started as a long operation. */
  ok: boolean;
}

/** Resolves when the step is done, or with `'started'` when it goes on outside the round. */
export type RunStep = (step: Step, signal: AbortSignal) => Promise<void | 'started'>;

export interface ExecuteOptions {
  concurrency: number;
  signal?: AbortSignal | undefined;
  onStepStart?: (step: Step) => void;
  onStepEnd?: (outcome: StepOutcome) => void;
}

type Slot = StepStatus | 'pending' | 'running';

export function executePlan(
  steps: readonly Step[],
  runStep: RunStep,
  options: ExecuteOptions,
): Promise<ExecutionResult> {
  const concurrency = Math.max(1, Math.floor(options.concurrency));
  const signal = options.signal ?? new AbortController().signal;
  const order = new Map<string, number>();
  const slots = new Map<string, Slot>();
  const errors = new Map<string, BosunError | undefined>();
  const waitingOn = new Map<string, Set<string>>();
  const dependents = new Map<string, string[]>();
  const byId = new Map<string, Step>();
  const duplicates: Step[] = [];

  steps.forEach((step, index) => {
    if (byId.has(step.id)) {
      duplicates.push(step);
      return;
    }
    byId.set(step.id, step);
    order.set(step.id, index);
    slots.set(step.id, 'pending');
  });

  let running = 0;
  const ready: string[] = [];
  let resolveDone: (result: ExecutionResult) => void = () => undefined;
  const done = new Promise<ExecutionResult>((resolve) => (resolveDone = resolve));

  const settle = (id: string, status: StepStatus, error: BosunError | undefined): void => {
    slots.set(id, status);
    errors.set(id, error);
    const step = byId.get(id);
    if (step !== undefined) options.onStepEnd?.({ step, status, error });
    const next = dependents.get(id) ?? [];
    if (status === 'ok') {
      for (const dependent of next) {
        const set = waitingOn.get(dependent);
        set?.delete(id);
        if (set?.size === 0 && slots.get(dependent) === 'pending') enqueue(dependent);
      }
    } else {
      for (const dependent of next) {
        if (slots.get(dependent) !== 'pending') continue;
        const cause =
          status === 'cancelled'
            ? error
            : new BosunError(
                'APPLY_FAILED',
                status === 'started'
                  ? `skipped: dependency ${id} is still running`
                  : `skipped: dependency ${id} ${status}`,
                { cause: error },
              );
        settle(dependent, status === 'cancelled' ? 'cancelled' : 'skipped', cause);
      }
    }
  };

  const enqueue = (id: string): void => {
    const position = order.get(id) ?? 0;
    let at = ready.length;
    while (at > 0 && (order.get(ready[at - 1] ?? '') ?? 0) > position) at--;
    ready.splice(at, 0, id);
  };

  const finishIfIdle = (): void => {
    if (running > 0 || ready.length > 0) return;
    for (const [id, slot] of slots) {
      if (slot !== 'pending') continue;
      // Nothing is running and nothing is ready, so what is left waits on a cycle (or was cut by abort).
      if (signal.aborted) settle(id, 'cancelled', cancelled(signal));
      else
        settle(
          id,
          'skipped',
          new BosunError('INTERNAL', `step ${id} is part of a dependency cycle`),
        );
    }
    const outcomes: StepOutcome[] = steps
      .filter((step, index) => order.get(step.id) === index)
      .map((step) => ({
        step,
        status: slots.get(step.id) as StepStatus,
        error: errors.get(step.id),
      }));
    for (const step of duplicates)
      outcomes.push({
        step,
        status: 'failed',
        error: new BosunError('INTERNAL', `duplicate step id ${step.id}`),
      });
    resolveDone({
      outcomes,
      ok: outcomes.every((o) => o.status === 'ok' || o.status === 'started'),
    });
  };

  const pump = (): void => {
    if (signal.aborted) {
      for (const id of ready.splice(0)) settle(id, 'cancelled', cancelled(signal));
    }
    while (running < concurrency && ready.length > 0) {
      const id = ready.shift() as string;
      const step = byId.get(id) as Step;
      slots.set(id, 'running');
      running++;
      options.onStepStart?.(step);
      void runSafely(runStep, step, signal).then((error) => {
        running--;
        if (error === 'started') settle(id, 'started', undefined);
        else if (error === undefined) settle(id, 'ok', undefined);
        else if (signal.aborted) settle(id, 'cancelled', error);
        else settle(id, 'failed', error);
        pump();
      });
    }
    finishIfIdle();
  };

  for (const step of byId.values()) {
    const unknown = step.dependsOn.filter((dep) => !byId.has(dep));
    if (unknown.length > 0) {
      waitingOn.set(step.id, new Set());
      continue;
    }
    waitingOn.set(step.id, new Set(step.dependsOn));
    for (const dep of step.dependsOn)
      dependents.set(dep, [...(dependents.get(dep) ?? []), step.id]);
  }
  for (const step of byId.values()) {
    const unknown = step.dependsOn.filter((dep) => !byId.has(dep));
    if (unknown.length > 0)
      settle(
        step.id,
        'skipped',
        new BosunError(
          'INTERNAL',
          `step ${step.id} depends on unknown step(s) ${unknown.join(', ')}`,
        ),
      );
  }
  for (const step of byId.values())
    if (slots.get(step.id) === 'pending' && waitingOn.get(step.id)?.size === 0) enqueue(step.id);

  const onAbort = (): void => pump();
  signal.addEventListener('abort', onAbort, { once: true });
  pump();
  return done.finally(() => signal.removeEventListener('abort', onAbort));
}

async function runSafely(
  runStep: RunStep,
  step: Step,
  signal: AbortSignal,
): Promise<BosunError | 'started' | undefined> {
  try {
    if (signal.aborted) return cancelled(signal);
    return (await runStep(step, signal)) ?? undefined;
  } catch (err) {
    return signal.aborted && !(err instanceof BosunError && err.code !== 'CANCELLED')
      ? cancelled(signal, err)
      : toBosunError(err, 'APPLY_FAILED');
  }
}

function cancelled(signal: AbortSignal, cause?: unknown): BosunError {
  const reason: unknown = signal.reason;
  if (reason instanceof BosunError && reason.code === 'CANCELLED') return reason;
  return new BosunError('CANCELLED', 'cancelled: a newer target or a shutdown took over', {
    cause: cause ?? reason,
  });
}
