import type { GitHubTarget } from '../../domain/command.js';
import { FINISHED_RUN_STATES } from '../../domain/run-transitions.js';
import type { RunRecord } from '../../domain/run.js';
import type { CoordStore } from '../../ports/coord-store.js';
import { renderFailureReport } from '../../report/render-status-comment.js';
import { executeRun } from '../execute-run.js';
import { delayUntil, lookAgainAt } from '../look-again.js';
import { requireRun } from '../run-records.js';
import { fetchRunBase } from './this-clone.js';
import { publishStatus } from '../status-comment.js';
import type { RunStarter } from '../run-starter.js';
import type { RepositoryPipelines } from './repository-pipelines.js';

export interface RunExecutorOptions {
  store: CoordStore;
  pipelines: RepositoryPipelines;
  /** How often at most the status comment is edited. */
  statusDebounceMs: number;
  log: (message: string, error?: unknown) => void;
}

interface ActiveRun {
  abort: AbortController;
  /** Something happened during the pass (a check finished, a review came): go round once more. */
  again: boolean;
  done: Promise<void>;
}

/**
 * Runs GitHub runs in the background of the App process, one pass at a time per run. A pass is
 * `executeRun` with the run's status comment kept current; events that arrive during a pass make
 * it go round again, so no check or review is missed. A wait that ends with no event (the grace
 * period for CI to appear) gets a pass of its own when it ends. A run that ends partial or failed
 * gets a comment saying what failed and how to retry.
 */
export class RunExecutor implements RunStarter {
  private readonly active = new Map<string, ActiveRun>();
  private readonly lookAgain = new Map<string, ReturnType<typeof setTimeout>>();
  private closed = false;

  constructor(private readonly options: RunExecutorOptions) {}

  /** Starts (or re-triggers) a pass over the run; resolves when the run is idle again. Never rejects. */
  start(runId: string): Promise<void> {
    clearTimeout(this.lookAgain.get(runId));
    this.lookAgain.delete(runId);
    const current = this.active.get(runId);
    if (current) {
      current.again = true;
      return current.done;
    }
    const entry: ActiveRun = { abort: new AbortController(), again: false, done: Promise.resolve() };
    entry.done = (async () => {
      try {
        do {
          entry.again = false;
          await this.pass(runId, entry.abort.signal);
        } while (entry.again && !entry.abort.signal.aborted);
      } catch (error) {
        this.options.log(`run ${runId} failed in the background`, error);
      } finally {
        this.active.delete(runId);
      }
      await this.scheduleLookAgain(runId);
    })();
    this.active.set(runId, entry);
    return entry.done;
  }

  /** Stops a run's agents if it is executing here; false when no pass of it is active. */
  cancel(runId: string): boolean {
    const entry = this.active.get(runId);
    if (!entry) return false;
    entry.abort.abort();
    return true;
  }

  /** Stops scheduling passes (shutdown): a look again not yet due is dropped; `recover()` takes it up. */
  close(): void {
    this.closed = true;
    for (const timer of this.lookAgain.values()) clearTimeout(timer);
    this.lookAgain.clear();
  }

  /** Resolves when no run is executing (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.active.size > 0) await Promise.all([...this.active.values()].map((entry) => entry.done));
  }

  /** A pass of its own when the run's earliest wait with no event to end it runs out. */
  private async scheduleLookAgain(runId: string): Promise<void> {
    const at = await lookAgainAt(this.options.store, runId).catch((error: unknown) => {
      this.options.log(`run ${runId}: could not read when to look again`, error);
      return undefined;
    });
    if (at === undefined || this.closed || this.active.has(runId)) return;
    clearTimeout(this.lookAgain.get(runId));
    const timer = setTimeout(() => {
      this.lookAgain.delete(runId);
      void this.start(runId);
    }, delayUntil(at));
    // A pending look does not keep the process alive; the App's next start recovers the run.
    timer.unref();
    this.lookAgain.set(runId, timer);
  }

  private pass(runId: string, signal: AbortSignal): Promise<void> {
    return githubRunPass(this.options, runId, signal);
  }
}

/**
 * One pass over a GitHub run: `executeRun` with the run's status comment kept current, and a
 * comment saying what failed (and how to retry) when the pass ended the run partial or failed.
 */
export async function githubRunPass(
  options: Pick<RunExecutorOptions, 'store' | 'pipelines' | 'statusDebounceMs' | 'log'>,
  runId: string,
  signal: AbortSignal,
): Promise<void> {
  const before = await options.store.getRun(runId);
  if (!before || before.origin.kind !== 'github') return;
  const { deps } = await options.pipelines.open(targetOf(before), { signal, config: before.config });
  // Another machine may have started the run: its base must be in this process's clone too.
  await fetchRunBase(deps, await requireRun(deps, runId));
  const publisher = publishStatus(deps, runId, {
    debounceMs: options.statusDebounceMs,
    onError: (error) => options.log(`status comment of run ${runId} failed`, error),
  });
  try {
    await publisher.flush();
    await executeRun(deps, runId);
  } finally {
    await publisher.stop();
  }
  const after = await options.store.getRun(runId);
  if (
    !after ||
    FINISHED_RUN_STATES.has(before.state) ||
    !['partial', 'failed'].includes(after.state) ||
    after.origin.kind !== 'github'
  )
    return;
  await deps.forge.createComment(
    after.origin.issue,
    renderFailureReport(after, await options.store.listSubtasks(runId)),
  );
}

/** The repository a GitHub run works on, as a command target. */
export function targetOf(run: RunRecord): GitHubTarget {
  if (run.origin.kind !== 'github') throw new Error(`run ${run.id} is not a GitHub run`);
  const { owner, repo, installationId, cloneUrl, htmlUrl } = run.origin;
  return { owner, repo, installationId, cloneUrl, htmlUrl, defaultBranch: run.baseBranch };
}
