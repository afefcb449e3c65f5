/**
 * Work that runs alone in the loop, between rounds, in arrival order: an intermediate target (a user
 * action) or a one-off plan (leaving local mode, volume clean-up). The loop takes them before the real
 * target; whoever queued one gets its result or its error.
 */
interface ExclusiveJob {
  run: (signal: AbortSignal) => Promise<void>;
  reject: (err: unknown) => void;
}

export class ExclusiveJobs {
  private readonly jobs: ExclusiveJob[] = [];

  get pending(): boolean {
    return this.jobs.length > 0;
  }

  /** Queues `run`; `queued` is told so the caller can make the loop give way to it. */
  add<T>(run: (signal: AbortSignal) => Promise<T>, queued: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ run: async (signal) => resolve(await run(signal)), reject });
      queued();
    });
  }

  /** Runs the oldest job, if any; its failure goes to whoever queued it, never to the loop. */
  async runNext(signal: AbortSignal): Promise<void> {
    const job = this.jobs.shift();
    if (job === undefined) return;
    try {
      await job.run(signal);
    } catch (err) {
      job.reject(err);
    }
  }
}
