import { createHash } from 'node:crypto';
import { worktreePool } from '../agent/run-subtask.js';
import type { RepoConfig } from '../config/repo-config.js';
import type { Subtask } from '../domain/plan.js';
import type { RunRecord } from '../domain/run.js';
import { mergeInOrder } from '../merge/merge-queue.js';
import type { SharedStateGuard } from '../ports/workspace.js';
import { failedCommands } from '../validate/run-validation.js';
import type { AgentDispatcher } from './dispatcher.js';
import { fixOnRedCheck, redIsFixable, requestFix, requeueInterruptedFixes, withPendingFixes } from './fix-requests.js';
import type { PipelineDeps } from './pipeline-deps.js';
import { CHECK_NAME, SCOPE_CHECK_NAME, validateAndPublish } from './publish.js';
import { addNote, requireRun } from './run-records.js';

// The merge phase of a run: fix attempts first, then the sequential merge queue over the plan.

/**
 * Runs the fix attempts that reviews, `fix` commands and red checks asked for, one per pull
 * request at a time through the dispatcher, until none is waiting (a red fix can ask for the
 * next, up to the cap). An attempt a crashed process left running counts, and its request is
 * taken up again.
 */
export async function runFixes(
  deps: PipelineDeps,
  dispatcher: AgentDispatcher,
  run: RunRecord,
  subtasks: readonly Subtask[],
): Promise<void> {
  if (!dispatcher.recoversLostJobs) {
    // Left running by this process before it died: asked for again.
    for (const record of await deps.store.listSubtasks(run.id)) await requeueInterruptedFixes(deps.store, record);
  } else {
    // Running on another machine (perhaps run again there after its worker died): waited for, by
    // dispatching the very job that runs it.
    const running = (await deps.store.listSubtasks(run.id)).flatMap((record) =>
      (record.fixes ?? [])
        .filter((fix) => fix.state === 'running' && fix.job !== undefined)
        .map((fix) => ({ record, job: fix.job! })),
    );
    await Promise.allSettled(
      running.map(({ record, job }) =>
        dispatcher.dispatch({
          kind: 'fix',
          runId: run.id,
          subtaskId: record.subtaskId,
          baseCommit: record.pr?.headSha ?? run.baseCommit,
          generation: job,
        }),
      ),
    );
    // Its job ended and the attempt is still running: the job failed (its workers killed twice),
    // or did not run again (a cancel in between). Recorded as interrupted and asked for again.
    const jobs = new Set(running.map(({ job }) => job));
    for (const record of await deps.store.listSubtasks(run.id))
      await requeueInterruptedFixes(deps.store, record, (fix) => fix.job !== undefined && jobs.has(fix.job));
  }
  // Each pass takes at least one request off every subtask it touches; the bound is only a backstop.
  for (let pass = 0; pass < 50 && !deps.signal?.aborted; pass += 1) {
    const waiting = withPendingFixes(await deps.store.listSubtasks(run.id)).filter((record) =>
      subtasks.some((subtask) => subtask.id === record.subtaskId),
    );
    if (waiting.length === 0) return;
    await Promise.allSettled(
      waiting.map((record) =>
        dispatcher.dispatch({
          kind: 'fix',
          runId: run.id,
          subtaskId: record.subtaskId,
          baseCommit: record.pr?.headSha ?? run.baseCommit,
          generation: `${record.fixes?.length ?? 0}-${fingerprint(record.fixRequests?.[0])}`,
        }),
      ),
    );
  }
}

/** A short digest of a fix request: another request, another fix job. */
function fingerprint(trigger: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(trigger ?? null))
    .digest('hex')
    .slice(0, 12);
}

/**
 * A merge pass for while agents still run: the front of the plan whose agents have all finished
 * merges, in plan order, and a pass runs only when that front has grown. The merge phase after
 * the agents takes the rest (and anything this left waiting).
 */
export function mergeAhead(
  deps: PipelineDeps,
  run: RunRecord,
  subtasks: readonly Subtask[],
  sharedState: SharedStateGuard,
): () => Promise<void> {
  let front = 0;
  return async () => {
    const records = await deps.store.listSubtasks(run.id);
    const finished: Subtask[] = [];
    for (const subtask of subtasks) {
      const state = records.find((record) => record.subtaskId === subtask.id)?.state;
      if (state === undefined || state === 'pending' || state === 'running') break;
      finished.push(subtask);
    }
    if (finished.length <= front || deps.signal?.aborted) return;
    front = finished.length;
    const merging = (fence?: () => Promise<void>) => mergeRun(deps, run, finished, run.config, sharedState, fence);
    await (deps.mergeExclusively ? deps.mergeExclusively(merging) : merging());
  };
}

export async function mergeRun(
  deps: PipelineDeps,
  run: RunRecord,
  subtasks: readonly Subtask[],
  config: RepoConfig,
  sharedState: SharedStateGuard,
  /** Throws when this merge phase no longer holds the repository's merge queue (see mergeExclusively). */
  fence?: () => Promise<void>,
): Promise<void> {
  const records = await deps.store.listSubtasks(run.id);
  const alreadyMerged = new Set(
    records.filter((record) => record.merge?.state === 'merged').map((record) => record.subtaskId),
  );
  const items = subtasks.flatMap((subtask) => {
    const record = records.find((candidate) => candidate.subtaskId === subtask.id);
    if (
      !record ||
      record.state !== 'succeeded' ||
      !record.pr ||
      record.merge?.state === 'merged' ||
      record.merge?.state === 'failed'
    )
      return [];
    // A fix is on its way (the run was cancelled before it ran): this head is not the one to merge.
    if ((record.fixRequests?.length ?? 0) > 0) return [];
    return [
      {
        subtaskId: subtask.id,
        prNumber: record.pr.number,
        title: subtask.title,
        dependsOn: subtask.dependsOn,
        baseUpdates: record.baseUpdates ?? [],
      },
    ];
  });
  if (items.length === 0) return;
  await mergeInOrder({
    forge: deps.forge,
    workspace: deps.workspace,
    repoDir: run.repo,
    baseBranch: run.baseBranch,
    poolRoot: worktreePool(deps.worktreeRoot),
    approval: config.approval,
    method: config.mergeMethod,
    // GitHub runs the repository's CI on the updated head; locally only Fanout's validation would.
    updateBeforeMerge: config.validate.length > 0 || run.origin.kind === 'github',
    validationCheck: CHECK_NAME,
    ownChecks: [CHECK_NAME, SCOPE_CHECK_NAME],
    waitForChecksMs: config.waitForChecksSeconds * 1000,
    items,
    alreadyMerged,
    ...(fence ? { beforeLanding: fence } : {}),
    revalidate: async (worktree, headSha, prNumber) => {
      // The merge worktree was cleaned for this head: its environment is prepared again first.
      const prepared = deps.prepareWorktree
        ? await deps.prepareWorktree(worktree, config, { trustedCommit: run.baseCommit, thorough: true })
        : ({ ok: true } as const);
      if (!prepared.ok) {
        await addNote(deps, await requireRun(deps, run.id), `The merge worktree's setup failed: ${prepared.message}`);
        return false;
      }
      const changedFiles = await deps.workspace.changedBetween(run.repo, run.baseCommit, headSha);
      const result = await validateAndPublish(deps, worktree, headSha, config, 'after-update', {
        changedFiles,
        ...(run.baseline ? { baselineFailures: run.baseline.failing } : {}),
      });
      // The validation commands ran the pull request's code; Fanout's git runs next.
      const changed = await sharedState.restore();
      if (changed.length > 0)
        await addNote(
          deps,
          await requireRun(deps, run.id),
          `Validation commands changed ${changed.map((path) => `.git/${path}`).join(', ')}; Fanout put them back.`,
        );
      const subtaskId = items.find((item) => item.prNumber === prNumber)!.subtaskId;
      await deps.store.updateSubtask(run.id, subtaskId, {
        check: {
          passed: result.passed,
          headSha,
          summary: 'after update with base',
          durationMs: result.durationMs,
          failed: failedCommands(result),
        },
      });
      return result.passed;
    },
    fixRed: async (subtaskId) => {
      if (!fixOnRedCheck(run)) return false;
      const record = await deps.store.getSubtask(run.id, subtaskId);
      if (!record?.pr || record.needsHuman) return false;
      if (!(await redIsFixable(deps.forge, record.check?.headSha ?? record.pr.headSha))) return false;
      await requestFix(deps.store, run, subtaskId, {
        kind: 'check',
        headSha: record.check?.headSha ?? record.pr.headSha,
      });
      const after = await deps.store.getSubtask(run.id, subtaskId);
      // Already tried on this head: the PR leaves the queue as it would without fixes.
      return (after?.fixRequests?.length ?? 0) > 0;
    },
    onBranchUpdated: async (subtaskId, update) => {
      // Recorded before the judgement that needs it: an approval of `from` stands for `to`.
      const current = await deps.store.getSubtask(run.id, subtaskId);
      await deps.store.updateSubtask(run.id, subtaskId, { baseUpdates: [...(current?.baseUpdates ?? []), update] });
    },
    onResult: async (subtaskId, result) => {
      const current = await deps.store.getSubtask(run.id, subtaskId);
      const timings = { ...current?.timings, ...(result.kind === 'merged' ? { merge: result.durationMs } : {}) };
      await deps.store.updateSubtask(run.id, subtaskId, {
        merge:
          result.kind === 'merged'
            ? { state: 'merged', sha: result.sha, approvedBy: result.approvedBy }
            : result.kind === 'failed'
              ? { state: 'failed', reason: result.reason, message: result.message }
              : {
                  state: 'waiting',
                  reason: result.reason,
                  message: result.message,
                  ...(result.retryAt ? { retryAt: result.retryAt } : {}),
                },
        timings,
      });
      // The approver must hear that what they approved is not what would merge (said once per head).
      if (result.kind !== 'waiting' || result.reason !== 'approval-stale') return;
      if (current?.merge?.state === 'waiting' && current.merge.message === result.message) return;
      const prNumber = items.find((item) => item.subtaskId === subtaskId)?.prNumber;
      if (prNumber !== undefined) await deps.forge.createComment(prNumber, staleApprovalComment(result.message));
    },
  });
}

/** What the pull request says when its approval no longer covers its head. */
function staleApprovalComment(message: string): string {
  return `Fanout holds this pull request: the ${message}. A commit came after the approval (a push, or a fix Fanout made) that no approver has seen; approve the pull request again to merge it.`;
}
