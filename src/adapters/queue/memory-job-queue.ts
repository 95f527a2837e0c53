import {
  queueOf,
  type FanoutJob,
  type JobHandler,
  type JobOutcome,
  type JobQueue,
  type JobWorker,
  type QueueName,
} from '../../ports/job-queue.js';

interface Entry {
  id: string;
  queue: QueueName;
  job: FanoutJob;
  /** `delayed` until its delay has passed, then `waiting` for a worker. */
  state: 'delayed' | 'waiting' | 'active' | JobOutcome;
  /** Which start the entry is on: a run of a job handed back no longer decides its outcome. */
  run: number;
  done: Promise<JobOutcome>;
  finish: (outcome: JobOutcome) => void;
}

interface Consumer {
  queues: Partial<Record<QueueName, number>>;
  handler: JobHandler;
  active: Map<QueueName, Set<Entry>>;
  stopped: boolean;
}

/** The JobQueue port in one process's memory: the test double of the BullMQ adapter. */
export class MemoryJobQueue implements JobQueue {
  private readonly entries = new Map<string, Entry>();
  private readonly consumers = new Set<Consumer>();
  private readonly delays = new Set<ReturnType<typeof setTimeout>>();

  async add(id: string, job: FanoutJob, options: { delayMs?: number } = {}): Promise<void> {
    if (this.entries.has(id)) return;
    let finish!: (outcome: JobOutcome) => void;
    const done = new Promise<JobOutcome>((resolve) => (finish = resolve));
    const delayed = (options.delayMs ?? 0) > 0;
    const entry: Entry = { id, queue: queueOf(job), job, state: delayed ? 'delayed' : 'waiting', run: 0, done, finish };
    this.entries.set(id, entry);
    if (delayed) {
      const timer = setTimeout(() => {
        this.delays.delete(timer);
        entry.state = 'waiting';
        this.pump();
      }, options.delayMs);
      timer.unref();
      this.delays.add(timer);
    }
    this.pump();
  }

  async outcome(_queue: QueueName, id: string): Promise<JobOutcome> {
    const entry = this.entries.get(id);
    return entry ? entry.done : 'completed';
  }

  work(queues: Partial<Record<QueueName, number>>, handler: JobHandler): JobWorker {
    const consumer: Consumer = { queues, handler, active: new Map(), stopped: false };
    this.consumers.add(consumer);
    this.pump();
    return {
      stop: async ({ drain, handBack = [] }) => {
        consumer.stopped = true;
        this.consumers.delete(consumer);
        const held = [...consumer.active.values()].flatMap((set) => [...set]);
        const kept = held.filter((entry) => drain && !handBack.includes(entry.queue));
        // Handed back: another worker runs them again (what this one still does is ignored).
        for (const entry of held) if (!kept.includes(entry)) entry.state = 'waiting';
        this.pump();
        await Promise.all(kept.map((entry) => entry.done));
      },
    };
  }

  async waiting(queue: QueueName): Promise<number> {
    return [...this.entries.values()].filter((entry) => entry.queue === queue && entry.state === 'waiting').length;
  }

  async close(): Promise<void> {
    for (const timer of this.delays) clearTimeout(timer);
    this.delays.clear();
    for (const consumer of this.consumers) consumer.stopped = true;
    this.consumers.clear();
  }

  /** Hands waiting jobs, oldest first, to consumers with room. */
  private pump(): void {
    for (const entry of this.entries.values()) {
      if (entry.state !== 'waiting') continue;
      const consumer = [...this.consumers].find((candidate) => {
        const limit = candidate.queues[entry.queue] ?? 0;
        return !candidate.stopped && (candidate.active.get(entry.queue)?.size ?? 0) < limit;
      });
      if (!consumer) continue;
      this.start(consumer, entry);
    }
  }

  private start(consumer: Consumer, entry: Entry): void {
    entry.state = 'active';
    entry.run += 1;
    const run = entry.run;
    const active = consumer.active.get(entry.queue) ?? new Set<Entry>();
    consumer.active.set(entry.queue, active);
    active.add(entry);
    void consumer
      .handler(entry.job)
      .then(
        () => 'completed' as const,
        () => 'failed' as const,
      )
      .then((outcome) => {
        active.delete(entry);
        if (entry.state === 'active' && entry.run === run) {
          entry.state = outcome;
          entry.finish(outcome);
        }
        this.pump();
      });
  }
}
