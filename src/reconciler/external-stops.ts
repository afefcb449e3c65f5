/**
 * Containers stopped by someone other than the agent get a grace period before the agent starts them
 * again itself. balena-cli's livepush syncs files into a running container, then kills it and starts it
 * through the engine; an agent that starts the container as soon as it sees the `die` makes the CLI's own
 * start fail ("container already started") and the live push with it. Whoever stopped a container for
 * a moment is given `graceMs` to start it again; only then does the agent step in. Restarts the engine's
 * restart policy makes are the engine's (the planner leaves those containers alone), and services that
 * crash right after the agent started them keep their own, growing backoff (reconciler noteDeath).
 *
 * The grace is a hold on the one `startContainer` step of that container, expressed as a backoff entry
 * for hold-back.ts, so the loop wakes by itself when it ends.
 */
import { stepIds } from '../planner/ids.js';
import type { BackoffEntry } from '../shared/backoff.js';

/** Entries past their end are dropped when read; this bounds what a burst of events can leave behind. */
const MAX_ENTRIES = 1_000;

export class ExternalStopGrace {
  /** startContainer step id → entry. */
  private readonly held = new Map<string, BackoffEntry>();

  constructor(private readonly graceMs: number) {}

  /** A container of ours died and the agent did not stop it. */
  died(labels: Readonly<Record<string, string>>, name: string | undefined, now: number): void {
    const id = this.stepId(labels, name);
    if (this.graceMs <= 0 || id === undefined) return;
    this.held.delete(id);
    if (this.held.size >= MAX_ENTRIES) this.prune(now);
    if (this.held.size >= MAX_ENTRIES) return;
    this.held.set(id, {
      failures: 0,
      lastFailureAt: now,
      until: now + this.graceMs,
      lastError: `stopped by someone else: the agent waits ${this.graceMs} ms for them to start it again`,
    });
  }

  /** A container was removed: a new one for the service is not someone else's to start. */
  destroyed(labels: Readonly<Record<string, string>>, name: string | undefined): void {
    const id = this.stepId(labels, name);
    if (id !== undefined) this.held.delete(id);
  }

  /** The reconciler's backoffs plus the start steps still in their grace period. */
  withGrace(
    backoffs: ReadonlyMap<string, BackoffEntry>,
    now: number,
  ): ReadonlyMap<string, BackoffEntry> {
    this.prune(now);
    if (this.held.size === 0) return backoffs;
    const merged = new Map(backoffs);
    for (const [id, entry] of this.held) if (!merged.has(id)) merged.set(id, entry);
    return merged;
  }

  private stepId(
    labels: Readonly<Record<string, string>>,
    name: string | undefined,
  ): string | undefined {
    const appUuid = labels['io.balena.app-uuid'];
    const service = labels['io.balena.service-name'];
    if (appUuid === undefined || service === undefined || name === undefined) return undefined;
    return stepIds.startContainer(appUuid, service, name.replace(/^\//, ''));
  }

  private prune(now: number): void {
    for (const [id, entry] of this.held) if (entry.until <= now) this.held.delete(id);
  }
}
