import { hostname } from 'node:os';
import { Job, Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import {
  queueOf,
  type FanoutJob,
  type JobHandler,
  type JobOutcome,
  type JobQueue,
  type JobWorker,
  type QueueName,
} from '../../ports/job-queue.js';

export interface BullJobQueueOptions {
  /** Namespaces every queue key: `<prefix>:q:<queue>:…` (FANOUT_REDIS_PREFIX). */
  prefix: string;
  /**
   * How long a worker's claim on a job lasts without renewal (renewed at half of it). A worker
   * killed mid-job loses its jobs to another worker after about this long.
   */
  lockMs: number;
  /** Agent jobs running at once across every worker (BullMQ's global concurrency); none when absent. */
  globalAgentLimit?: number;
}

// How often `outcome` looks at a job's state itself, besides the event stream.
const OUTCOME_CHECK_MS = 1_000;

// Finished jobs are kept this long, so that a second add of the same id is still ignored.
const KEEP_FINISHED_S = 24 * 3600;

/**
 * The JobQueue port on BullMQ: one BullMQ queue per Fanout queue. A worker that dies holding a job
 * (SIGKILL, a lost machine) stops renewing its lock; the job is then found stalled and runs again
 * on a live worker, under the same id. Adds are idempotent through the job id.
 */
export class BullJobQueue implements JobQueue {
  private readonly connection: Redis;
  private readonly queues = new Map<QueueName, Queue>();
  private readonly events = new Map<QueueName, QueueEvents>();
  private readonly workers = new Set<Worker>();
  private readonly bullPrefix: string;
  private limits: Promise<void> | undefined;
  /** Pending `outcome` calls, ended when the queue closes. */
  private readonly pendingOutcomes = new Set<() => void>();

  constructor(
    url: string,
    private readonly options: BullJobQueueOptions,
  ) {
    // BullMQ's blocking reads need an unlimited retry policy on the connection.
    this.connection = new Redis(url, { maxRetriesPerRequest: null });
    this.bullPrefix = `${options.prefix}:q`;
  }

  async add(id: string, job: FanoutJob, options: { delayMs?: number } = {}): Promise<void> {
    await this.limited();
    await this.queue(queueOf(job)).add(job.kind, job, {
      jobId: jobId(id),
      // Kept in Redis until due: a scheduled look again survives the process that asked for it.
      ...(options.delayMs && options.delayMs > 0 ? { delay: Math.ceil(options.delayMs) } : {}),
      // A failed job is not run again by the queue: an agent job records its own failure, and a
      // run that a failed pass left is taken up by its next event or the App's next start.
      attempts: 1,
      removeOnComplete: { age: KEEP_FINISHED_S },
      removeOnFail: { age: KEEP_FINISHED_S },
    });
  }

  async outcome(queue: QueueName, id: string): Promise<JobOutcome> {
    const job = await Job.fromId(this.queue(queue), jobId(id));
    // Gone: finished longer ago than anything is kept.
    if (!job) return 'completed';
    // The event stream brings the end at once; a look at the job's state now and then catches an
    // end the stream's reader missed (it starts reading at "now", a moment after subscribing).
    let timer: ReturnType<typeof setTimeout> | undefined;
    let abandon: () => void = () => undefined;
    const closed = new Promise<never>((_resolve, reject) => {
      abandon = () => reject(new Error('the job queue was closed while waiting for a job to end'));
    });
    this.pendingOutcomes.add(abandon);
    const looked = new Promise<JobOutcome>((resolve) => {
      const look = () => {
        void job.getState().then(
          (state) => {
            if (state === 'completed' || state === 'failed') resolve(state);
            else if (state === 'unknown') resolve('completed');
            else timer = setTimeout(look, OUTCOME_CHECK_MS);
          },
          () => (timer = setTimeout(look, OUTCOME_CHECK_MS)),
        );
      };
      timer = setTimeout(look, OUTCOME_CHECK_MS);
    });
    const streamed = job.waitUntilFinished(this.queueEvents(queue)).then(
      () => 'completed' as const,
      () => 'failed' as const,
    );
    try {
      return await Promise.race([streamed, looked, closed]);
    } finally {
      clearTimeout(timer);
      this.pendingOutcomes.delete(abandon);
    }
  }

  work(queues: Partial<Record<QueueName, number>>, handler: JobHandler): JobWorker {
    void this.limited().catch(() => undefined);
    const started: Array<{ name: QueueName; worker: Worker }> = [];
    for (const [name, concurrency] of Object.entries(queues) as Array<[QueueName, number]>) {
      const worker = new Worker(name, async (job: Job<FanoutJob>) => handler(job.data), {
        connection: this.connection,
        prefix: this.bullPrefix,
        concurrency,
        // Stored on every job it takes (`processedBy`): which machine and process ran a job.
        name: `${hostname()}:${process.pid}`,
        lockDuration: this.options.lockMs,
        stalledInterval: Math.max(250, Math.floor(this.options.lockMs / 2)),
        // An agent or intake job lost twice (its workers killed) fails rather than run a third
        // time; a run's pass is lost with every worker restarted under it, and must go on.
        maxStalledCount: name === 'runs' ? 20 : 2,
      });
      // Connection trouble is retried by ioredis; a job's own failure is its outcome.
      worker.on('error', () => undefined);
      started.push({ name, worker });
      this.workers.add(worker);
    }
    return {
      stop: async ({ drain, handBack = [] }) => {
        // Forced: no wait, no more lock renewal; the job is found stalled and runs elsewhere.
        await Promise.all(started.map(({ name, worker }) => worker.close(!drain || handBack.includes(name))));
        for (const { worker } of started) this.workers.delete(worker);
      },
    };
  }

  async waiting(queue: QueueName): Promise<number> {
    return this.queue(queue).getWaitingCount();
  }

  async close(): Promise<void> {
    // Whoever waits on a job's end hears that nobody will tell them any more.
    for (const abandon of [...this.pendingOutcomes]) abandon();
    await Promise.all([...this.workers].map((worker) => worker.close()));
    await Promise.all([...this.events.values()].map((events) => events.close()));
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    await this.connection.quit().catch(() => undefined);
  }

  /** Sets the global agent limit once (it is stored in Redis, for every worker). */
  private limited(): Promise<void> {
    this.limits ??=
      this.options.globalAgentLimit === undefined
        ? Promise.resolve()
        : this.queue('agents')
            .setGlobalConcurrency(this.options.globalAgentLimit)
            .then(() => undefined);
    return this.limits;
  }

  private queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.bullPrefix });
      queue.on('error', () => undefined);
      this.queues.set(name, queue);
    }
    return queue;
  }

  private queueEvents(name: QueueName): QueueEvents {
    let events = this.events.get(name);
    if (!events) {
      // BullMQ opens a copy of the connection: reading the event stream blocks it.
      events = new QueueEvents(name, { connection: this.connection, prefix: this.bullPrefix });
      events.on('error', () => undefined);
      this.events.set(name, events);
    }
    return events;
  }
}

/** BullMQ refuses ids with ':' and ids that are integers. */
function jobId(id: string): string {
  const safe = id.replace(/:/g, '_');
  return /^\d+$/.test(safe) ? `job-${safe}` : safe;
}
