import { worktreePool } from '../../agent/run-subtask.js';
import type { GitHubTarget, PullRequestEvent } from '../../domain/command.js';
import type { RunRecord, SubtaskRecord } from '../../domain/run.js';
import type { CoordStore } from '../../ports/coord-store.js';
import { failedCommands } from '../../validate/run-validation.js';
import { moveRun } from '../../domain/run-transitions.js';
import { fixOnRedCheck, redIsFixable, requestFix } from '../fix-requests.js';
import { publishScopeCheck, validateAndPublish } from '../publish.js';
import type { RepositoryPipelines } from './repository-pipelines.js';
import type { RunStarter } from '../run-starter.js';
import { targetOf } from './run-executor.js';

export interface EventContext {
  store: CoordStore;
  pipelines: RepositoryPipelines;
  executor: RunStarter;
}

// Runs in these states have pull requests whose checks and reviews can still move the merge queue.
const LISTENING = new Set<RunRecord['state']>(['running', 'merging']);
// Runs that ended with pull requests still open: a review or red check there sends the agent back.
// (Not a cancelled run: reopening it would start the agents a person stopped.)
const ENDED_WITH_OPEN_PRS = new Set<RunRecord['state']>(['partial', 'failed']);

/**
 * Routes a pull request event to the runs it concerns: a review, a finished check or status, a
 * closed pull request or a push makes the run's merge queue look again. A person's push to an
 * agent's branch is validated again (and its scope checked) first, and takes the PR back into the
 * queue if it had been taken out.
 */
export async function handlePullRequestEvent(
  context: EventContext,
  target: GitHubTarget,
  event: PullRequestEvent,
): Promise<void> {
  // A review or a red check can send the agent back, even to a run that has ended.
  const mayFix =
    (event.kind === 'review' && (event.state === 'changes_requested' || event.state === 'commented')) ||
    ((event.kind === 'checks-completed' || event.kind === 'status') && event.failed);
  // A person's push to a PR of an ended run (say, after Fanout handed it over) is validated and merged too.
  const personPushed = event.kind === 'pushed' && !event.pusherIsFanout;
  for (const run of await runsOf(context.store, target, mayFix || personPushed)) {
    const records = await context.store.listSubtasks(run.id);
    const concerned = records.filter((record) => concerns(record, event));
    if (concerned.length === 0) continue;
    if (event.kind === 'pushed' && !event.pusherIsFanout) {
      for (const record of concerned) await revalidatePush(context, run, record, event.headSha, event.pusher);
      const current = await context.store.getRun(run.id);
      if (
        current &&
        ENDED_WITH_OPEN_PRS.has(current.state) &&
        concerned.some((record) => record.merge?.state !== 'merged')
      ) {
        await context.store.updateRun(run.id, moveRun(current, 'merging'));
        void context.executor.start(run.id);
        continue;
      }
    }
    let fixes = 0;
    if (mayFix) {
      for (const record of concerned) if (await askForFix(context, run, record, event)) fixes += 1;
    }
    if (LISTENING.has(run.state) || fixes > 0) void context.executor.start(run.id);
  }
}

/**
 * Queues a fix attempt for a review that requests changes (or comments inline) by someone with
 * write access or a bot the configuration lists, or for a red check on the PR's head when
 * `fixOnRedCheck` holds. True when one was queued.
 */
async function askForFix(
  context: EventContext,
  run: RunRecord,
  record: SubtaskRecord,
  event: PullRequestEvent,
): Promise<boolean> {
  if (!record.pr || record.merge?.state === 'merged' || record.needsHuman) return false;
  if (event.kind === 'review') {
    const { deps } = await context.pipelines.open(targetOf(run));
    const allowed = event.reviewerIsBot
      ? run.config.reviewBots.includes(event.reviewer)
      : ['admin', 'write'].includes(await deps.forge.userPermission(event.reviewer));
    if (!allowed) return false;
    // A review that only comments asks for something when it starts a thread: a reply in one
    // (GitHub submits each as a review of its own, "thanks" included) asks for nothing new.
    if (
      event.state === 'commented' &&
      !(await deps.forge.reviewFeedback(record.pr.number, event.reviewId)).comments.some(
        (comment) => comment.inReplyTo === undefined,
      )
    )
      return false;
    return (
      (await requestFix(context.store, run, record.subtaskId, {
        kind: 'review',
        reviewer: event.reviewer,
        reviewId: event.reviewId,
      })) === null
    );
  }
  if (
    (event.kind === 'checks-completed' || event.kind === 'status') &&
    event.failed &&
    fixOnRedCheck(run) &&
    (record.pr.headSha === event.headSha || record.check?.headSha === event.headSha)
  ) {
    const { deps } = await context.pipelines.open(targetOf(run));
    if (!(await redIsFixable(deps.forge, event.headSha))) return false;
    return (await requestFix(context.store, run, record.subtaskId, { kind: 'check', headSha: event.headSha })) === null;
  }
  return false;
}

async function runsOf(store: CoordStore, target: GitHubTarget, includeEnded: boolean): Promise<RunRecord[]> {
  return (await store.listRuns()).filter(
    (run) =>
      run.origin.kind === 'github' &&
      run.origin.owner === target.owner &&
      run.origin.repo === target.repo &&
      (LISTENING.has(run.state) || (includeEnded && ENDED_WITH_OPEN_PRS.has(run.state))),
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
      return (
        event.prNumbers.includes(record.pr.number) ||
        record.pr.headSha === event.headSha ||
        record.check?.headSha === event.headSha
      );
    case 'status':
      return record.pr.headSha === event.headSha || record.check?.headSha === event.headSha;
  }
}

/** Validates a head a person pushed to an agent's branch, as if an agent had made it. */
async function revalidatePush(
  context: EventContext,
  run: RunRecord,
  record: SubtaskRecord,
  headSha: string,
  pusher: string,
): Promise<void> {
  const subtask = run.plan?.subtasks.find((candidate) => candidate.id === record.subtaskId);
  if (!subtask || !record.branch || record.pr?.headSha === headSha) return;
  const { deps } = await context.pipelines.open(targetOf(run));
  const fetched = await deps.forge.fetchBase(record.branch);
  if (fetched !== headSha) return; // Moved again meanwhile: the next push event validates that one.
  const worktree = await deps.workspace.acquireWorktree({
    repoDir: run.repo,
    poolRoot: worktreePool(deps.worktreeRoot),
    branch: null,
    commit: headSha,
  });
  try {
    // Against the base as it is now: a PR updated with the base holds other subtasks' merged files.
    const files = await deps.workspace.changedBetween(run.repo, await deps.forge.fetchBase(run.baseBranch), headSha);
    const inScope = await publishScopeCheck(deps, headSha, files, subtask.writeScope, run.config);
    const result = await validateAndPublish(deps, worktree, headSha, run.config, 'after-update');
    const { merge, ...rest } = record;
    await context.store.putSubtask({
      ...rest,
      pr: { ...record.pr!, headSha },
      check: {
        passed: result.passed && inScope,
        headSha,
        summary: `after a push by ${pusher}`,
        durationMs: result.durationMs,
        failed: failedCommands(result),
      },
      // Taken out of the queue before? The person's push is a new candidate.
      ...(merge && merge.state !== 'failed' ? { merge } : {}),
      updatedAt: new Date().toISOString(),
    });
  } finally {
    await deps.workspace.releaseWorktree(worktree);
    await deps.workspace.settled();
  }
}
