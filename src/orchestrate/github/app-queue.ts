import PQueue from 'p-queue';
import type { GitHubTarget, PullRequestEvent } from '../../domain/command.js';
import type { CoordStore } from '../../ports/coord-store.js';
import { runIsLive } from '../run-owner.js';
import { handlePullRequestEvent } from './handle-event.js';
import { processCommand } from './process-command.js';
import type { RepositoryPipelines } from './repository-pipelines.js';
import type { RunExecutor } from './run-executor.js';

export interface AppQueueOptions {
  store: CoordStore;
  pipelines: RepositoryPipelines;
  executor: RunExecutor;
  log: (message: string, error?: unknown) => void;
  /** Commands processed at once (each makes a few API calls before its run goes to the background). */
  concurrency?: number;
}

/**
 * The App's in-process background queue: the webhook handler stores a command and returns; this
 * queue processes it (and pull request events) after the delivery was answered. Work for one
 * repository runs one item at a time, so commands and events of a repository keep their order.
 */
export class AppQueue {
  private readonly queue: PQueue;
  private readonly tails = new Map<string, Promise<void>>();
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: AppQueueOptions) {
    this.queue = new PQueue({ concurrency: options.concurrency ?? 4 });
  }

  /** A stored command (by its delivery id) is ready. */
  enqueueCommand(id: string): void {
    this.track(
      (async () => {
        const command = await this.options.store.getCommand(id);
        if (command) await this.forRepository(command.target, () => processCommand(this.options, id));
      })(),
    );
  }

  /** GitHub said something about a pull request, maybe one of Fanout's. */
  enqueueEvent(target: GitHubTarget, event: PullRequestEvent): void {
    this.track(this.forRepository(target, () => handlePullRequestEvent(this.options, target, event)));
  }

  /**
   * After a restart: commands stored but never answered are processed, and GitHub runs whose
   * process died are continued. Nothing a delivery was acknowledged for is lost.
   */
  async recover(): Promise<void> {
    for (const command of await this.options.store.listCommands())
      if (command.state === 'received') this.enqueueCommand(command.id);
    for (const run of await this.options.store.listRuns()) {
      if (run.origin.kind === 'github' && ['planning', 'running', 'merging'].includes(run.state) && !runIsLive(run))
        void this.options.executor.start(run.id);
    }
  }

  /** Resolves when every queued item and every run it started is done (tests, shutdown). */
  async idle(): Promise<void> {
    do {
      await Promise.all([...this.pending]);
      await this.queue.onIdle();
      await this.options.executor.idle();
    } while (this.pending.size > 0 || this.queue.size > 0 || this.queue.pending > 0);
  }

  private track(work: Promise<void>): void {
    const tracked = work
      .catch((error: unknown) => this.options.log('background work failed', error))
      .finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private forRepository(target: GitHubTarget, work: () => Promise<void>): Promise<void> {
    return this.inOrder(`${target.owner}/${target.repo}`.toLowerCase(), work);
  }

  /** Runs `work` after the previous item with the same key, within the queue's concurrency. */
  private inOrder(key: string, work: () => Promise<void>): Promise<void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(() =>
      this.queue.add(async () => {
        try {
          await work();
        } catch (error) {
          this.options.log(`background work ${key} failed`, error);
        }
      }),
    );
    this.tails.set(key, next);
    void next.then(() => {
      if (this.tails.get(key) === next) this.tails.delete(key);
    });
    return next;
  }
}
