import { worktreePool } from '../../agent/run-subtask.js';
import type { GitHubTarget, PullRequestEvent } from '../../domain/command.js';
import type { RunRecord, SubtaskRecord } from '../../domain/run.js';
import type { CoordStore } from '../../ports/coord-store.js';
import { failedCommands } from '../../validate/run-validation.js';
import { publishScopeCheck, validateAndPublish } from '../publish.js';
import type { RepositoryPipelines } from './repository-pipelines.js';
import { targetOf, type RunExecutor } from './run-executor.js';

export interface EventContext {
  store: CoordStore;
  pipelines: RepositoryPipelines;
  executor: RunExecutor;
}

// Runs in these states have pull requests whose checks and reviews can still move the merge queue.
const LISTENING = new Set<RunRecord['state']>(['running', 'merging']);

/**
 * Routes a pull request event to the runs it concerns: a review, a finished check or status, a
 * closed pull request or a push makes the run's merge queue look again. A person's push to an
 * agent's branch is validated again (and its scope checked) first, and takes the PR back into the
 * queue if it had been taken out.
 */
export async function handlePullRequestEvent(context: EventContext, target: GitHubTarget, event: PullRequestEvent): Promise<void> {
  for (const run of await runsOf(context.store, target)) {
    const records = await context.store.listSubtasks(run.id);
    const concerned = records.filter((record) => concerns(record, event));
    if (concerned.length === 0) continue;
    if (event.kind === 'pushed' && !event.pusherIsFanout) {
      for (const record of concerned) await revalidatePush(context, run, record, event.headSha, event.pusher);
    }
    void context.executor.start(run.id);
  }
}

async function runsOf(store: CoordStore, target: GitHubTarget): Promise<RunRecord[]> {
  return (await store.listRuns()).filter(
    (run) => run.origin.kind === 'github' && run.origin.owner === target.owner && run.origin.repo === target.repo && LISTENING.has(run.state),
  );
}

function concerns(record: SubtaskRecord, event: PullRequestEvent): boolean {
  if (!record.pr) return false;
  switch (event.kind) {
    case 'review':
    case 'closed':
    case 'pushed':
      return record.pr.number === event.prNumber;
    case 'checks-completed':
      return event.prNumbers.includes(record.pr.number) || record.pr.headSha === event.headSha || record.check?.headSha === event.headSha;
    case 'status':
      return record.pr.headSha === event.headSha || record.check?.headSha === event.headSha;
  }
}

/** Validates a head a person pushed to an agent's branch, as if an agent had made it. */
async function revalidatePush(context: EventContext, run: RunRecord, record: SubtaskRecord, headSha: string, pusher: string): Promise<void> {
  const subtask = run.plan?.subtasks.find((candidate) => candidate.id === record.subtaskId);
  if (!subtask || !record.branch || record.pr?.headSha === headSha) return;
  const { deps } = await context.pipelines.open(targetOf(run));
  const fetched = await deps.forge.fetchBase(record.branch);
  if (fetched !== headSha) return; // Moved again meanwhile: the next push event validates that one.
  const worktree = await deps.workspace.acquireWorktree({ repoDir: run.repo, poolRoot: worktreePool(deps.worktreeRoot), branch: null, commit: headSha });
  try {
    const files = await deps.workspace.changedBetween(run.repo, run.baseCommit, headSha);
    const inScope = await publishScopeCheck(deps, headSha, files, subtask.writeScope);
    const result = await validateAndPublish(deps, worktree, headSha, run.config, 'after-update');
    const { merge, ...rest } = record;
    await context.store.putSubtask({
      ...rest,
      pr: { ...record.pr!, headSha },
      check: { passed: result.passed && inScope, headSha, summary: `after a push by ${pusher}`, durationMs: result.durationMs, failed: failedCommands(result) },
      // Taken out of the queue before? The person's push is a new candidate.
      ...(merge && merge.state !== 'failed' ? { merge } : {}),
      updatedAt: new Date().toISOString(),
    });
  } finally {
    await deps.workspace.releaseWorktree(worktree);
  }
}
