import PQueue from 'p-queue';
import type { CoordStore } from '../ports/coord-store.js';
import type { FanoutJob, JobQueue } from '../ports/job-queue.js';
import type { Locks } from '../ports/locks.js';
import { cancelUnstarted } from './run-cancel.js';

/** An agent or fix job, as data: whoever runs it rebuilds the rest from the store. */
export type AgentJob = Extract<FanoutJob, { kind: 'agent' | 'fix' }>;

/** Hands agent jobs to whatever runs them; completion is observed through the CoordStore. */
export interface AgentDispatcher {
  /**
   * True when a job lost with its process is run again by whoever runs jobs (a queue's stalled
   * job): the dispatcher's caller must not take its records for abandoned.
   */
  readonly recoversLostJobs: boolean;
  /** Starts the job when a slot is free; the promise settles when the job ends (for crash detection). */
  dispatch(job: AgentJob): Promise<void>;
}

/** The id that makes dispatching a job idempotent: one per subtask, kind and generation. */
export function agentJobId(job: AgentJob): string {
  return `${job.kind}-${job.runId}-${job.subtaskId}-${job.generation}`;
}

/** Runs agent jobs in this process, at most `concurrency` at once. */
export class LocalDispatcher implements AgentDispatcher {
  readonly recoversLostJobs = false;
  private readonly queue: PQueue;

  constructor(
    concurrency: number,
    private readonly run: (job: AgentJob) => Promise<void>,
  ) {
    this.queue = new PQueue({ concurrency });
  }

  dispatch(job: AgentJob): Promise<void> {
    return this.queue.add(() => this.run(job));
  }
}

/**
 * Hands agent jobs to workers on any machine through the job queue. At most `maxAgents` of a
 * repository run at once across every machine (a semaphore slot is held from before the job is
 * queued until it ends); the job's end is its outcome in the queue.
 */
export class QueueDispatcher implements AgentDispatcher {
  readonly recoversLostJobs = true;

  constructor(
    private readonly jobs: JobQueue,
    private readonly limit: { locks: Locks; store: CoordStore; repository: string; maxAgents: number },
  ) {}

  async dispatch(job: AgentJob): Promise<void> {
    const slot = await this.limit.locks.acquireSlot(`agents:${this.limit.repository}`, this.limit.maxAgents);
    try {
      // Cancelled while waiting for a slot: nothing more is queued for the run.
      if ((await this.limit.store.getRun(job.runId))?.state === 'cancelled')
        return await cancelUnstarted(this.limit.store, job);
      const id = agentJobId(job);
      await this.jobs.add(id, job);
      const outcome = await this.jobs.outcome('agents', id);
      if (outcome === 'failed') throw new Error(`the ${job.kind} job of ${job.subtaskId} failed on its worker`);
    } finally {
      await slot.release();
    }
  }
}
