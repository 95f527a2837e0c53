import type { GitHubTarget, PullRequestEvent } from '../domain/command.js';

/**
 * Work that crosses process (and machine) boundaries is data, never a closure: whoever runs it
 * rebuilds everything else from the store and its own environment.
 */
export type FanoutJob =
  /** One pass of a run's orchestration: plan, dispatch agents, merge queue, report. */
  | { kind: 'run-pass'; runId: string }
  /** One subtask's agent (with its one retry), or one fix attempt on its pull request. */
  | {
      kind: 'agent' | 'fix';
      runId: string;
      subtaskId: string;
      /** The commit the agent starts from (dependents start from a base holding their dependencies). */
      baseCommit: string;
      /**
       * Tells this dispatch from the subtask's earlier ones (its earlier attempts; for a fix, the
       * attempts so far and the request): a new dispatch is a new job, the same one dispatched
       * again (by an orchestrator that took the run over) is the same job.
       */
      generation: string;
    }
  /** A stored webhook command to process. */
  | { kind: 'command'; commandId: string }
  /** A pull request event from GitHub. */
  | { kind: 'event'; target: GitHubTarget; event: PullRequestEvent };

/** Which queue a job goes to: run passes, agents, and the App's intake are scheduled apart. */
export type QueueName = 'runs' | 'agents' | 'intake';

/** The queue each kind of job goes to. */
export function queueOf(job: FanoutJob): QueueName {
  if (job.kind === 'run-pass') return 'runs';
  if (job.kind === 'agent' || job.kind === 'fix') return 'agents';
  return 'intake';
}

/** How a job ended; `failed` when its handler threw (or it was lost more often than allowed). */
export type JobOutcome = 'completed' | 'failed';

/** Runs one job; a throw fails it. */
export type JobHandler = (job: FanoutJob) => Promise<void>;

/** What `work` returns: a way to stop taking jobs. */
export interface JobWorker {
  /**
   * Stops taking jobs. With `drain`, jobs in hand run to their end first, except those of the
   * `handBack` queues; without, all are handed back. A job handed back runs again on another
   * worker once this one's claim on it runs out (what this process still does of it is lost).
   */
  stop(options: { drain: boolean; handBack?: readonly QueueName[] }): Promise<void>;
}

/**
 * Durable job queues shared by every process of a deployment (BullMQ on Redis), or in one
 * process's memory (the test double). A job's id makes adding idempotent: a second add of an id
 * that is waiting, running or recently finished is ignored.
 */
export interface JobQueue {
  /**
   * Adds the job under `id` (unless that id is known); resolves once it is stored. With `delayMs`,
   * no worker takes it before that long has passed (a look again scheduled for later).
   */
  add(id: string, job: FanoutJob, options?: { delayMs?: number }): Promise<void>;
  /** Resolves with how the job with this id ended; waits while it is waiting or running. */
  outcome(queue: QueueName, id: string): Promise<JobOutcome>;
  /** Runs jobs of the given queues in this process, `concurrency` at a time per queue. */
  work(queues: Partial<Record<QueueName, number>>, handler: JobHandler): JobWorker;
  /** How many jobs of a queue are waiting for a worker (for progress). */
  waiting(queue: QueueName): Promise<number>;
  close(): Promise<void>;
}
