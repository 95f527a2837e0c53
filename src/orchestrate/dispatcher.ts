import PQueue from 'p-queue';

/** Hands agent jobs to whatever runs them; completion is observed through the CoordStore. */
export interface AgentDispatcher {
  /** Starts the job when a slot is free; the promise settles when the job ends (for crash detection). */
  dispatch(job: () => Promise<void>): Promise<void>;
}

/** Runs agent jobs in this process, at most `concurrency` at once. */
export class LocalDispatcher implements AgentDispatcher {
  private readonly queue: PQueue;

  constructor(concurrency: number) {
    this.queue = new PQueue({ concurrency });
  }

  dispatch(job: () => Promise<void>): Promise<void> {
    return this.queue.add(job);
  }
}
