import { randomUUID } from 'node:crypto';
import type { GitHubTarget, PullRequestEvent } from '../../domain/command.js';
import type { CoordStore } from '../../ports/coord-store.js';
import type { JobQueue } from '../../ports/job-queue.js';
import type { Locks } from '../../ports/locks.js';
import { runLock } from '../jobs/run-pass.js';
import { QueuedRunStarter } from '../run-starter.js';

/**
 * The App's intake on several machines: a stored command, or a pull request event, becomes a job
 * on Redis before the delivery is answered; workers process it. Nothing runs in the App's process.
 */
export class QueuedIntake {
  private readonly runs: QueuedRunStarter;

  constructor(
    private readonly jobs: JobQueue,
    private readonly store: CoordStore,
    private readonly locks: Locks,
  ) {
    this.runs = new QueuedRunStarter(jobs);
  }

  /** Queued under the command's delivery id: a second enqueue of it is the same job. */
  async enqueueCommand(id: string): Promise<void> {
    await this.jobs.add(`command-${id}`, { kind: 'command', commandId: id });
  }

  async enqueueEvent(target: GitHubTarget, event: PullRequestEvent): Promise<void> {
    await this.jobs.add(`event-${randomUUID()}`, { kind: 'event', target, event });
  }

  /**
   * After a restart: stored commands never processed are queued again (same ids: no duplicates),
   * and every unfinished GitHub run that no worker is passing over gets a pass.
   */
  async recover(): Promise<void> {
    for (const command of await this.store.listCommands())
      if (command.state === 'received') await this.enqueueCommand(command.id);
    for (const run of await this.store.listRuns()) {
      if (run.origin.kind !== 'github' || !['planning', 'running', 'merging'].includes(run.state)) continue;
      const free = await this.locks.tryAcquire(runLock(run.id));
      if (!free) continue;
      await free.release();
      await this.runs.start(run.id);
    }
  }

  /** The work is the workers': nothing to wait for here. */
  async idle(): Promise<void> {}
}
