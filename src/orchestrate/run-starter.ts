import { randomUUID } from 'node:crypto';
import type { JobQueue } from '../ports/job-queue.js';

/** Starts passes over runs: in this process (RunExecutor), or as queued jobs for any worker. */
export interface RunStarter {
  /** Starts (or asks again for) a pass over the run; resolves once that is arranged. */
  start(runId: string): Promise<void>;
  /** Stops the run's agents if a pass of it runs here; false otherwise (the caller records the cancel). */
  cancel(runId: string): boolean;
}

/** The id of a new pass job: every request is its own job (a worker that finds the run busy asks its holder to go round again). */
export function runPassJobId(runId: string): string {
  return `run-${runId}-${randomUUID()}`;
}

/** Run passes as jobs on the queue, taken by whichever worker is free (several machines). */
export class QueuedRunStarter implements RunStarter {
  constructor(private readonly jobs: JobQueue) {}

  async start(runId: string): Promise<void> {
    await this.jobs.add(runPassJobId(runId), { kind: 'run-pass', runId });
  }

  cancel(): boolean {
    // The worker running the pass sees the run's state turn `cancelled` in the store and stops.
    return false;
  }
}
