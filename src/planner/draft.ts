/**
 * The plan under construction. Steps are added with their dependencies; steps that touch a running
 * service remember which service's update lock they need (locks.ts adds `takeLock` or withholds them).
 * Adding a step whose id is already present keeps the first one: ids are content-derived, so the same
 * id means the same work (e.g. two services pulling one image).
 */
import type { Blocker, Step } from './steps.js';

export interface Draft {
  step: Step;
  /** Service whose update lock this step needs, if any. */
  lockService: string | undefined;
}

export class DraftPlan {
  readonly drafts = new Map<string, Draft>();
  readonly blockers: Blocker[] = [];

  add(step: Step, lockService?: string): string {
    if (!this.drafts.has(step.id)) this.drafts.set(step.id, { step, lockService });
    return step.id;
  }

  has(id: string): boolean {
    return this.drafts.has(id);
  }

  block(blocker: Blocker): void {
    this.blockers.push(blocker);
  }

  steps(): Step[] {
    return [...this.drafts.values()].map((d) => d.step);
  }
}
