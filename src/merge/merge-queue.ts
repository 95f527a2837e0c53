import type { MergeFailureReason } from '../domain/run.js';
import type { Forge } from '../ports/forge.js';
import type { Workspace, Worktree } from '../ports/workspace.js';

export interface MergeItem {
  subtaskId: string;
  prNumber: number;
  title: string;
  dependsOn: readonly string[];
  /** Whether validation passed on the PR's current head. */
  validationPassed: boolean;
}

export type MergeItemResult =
  | { kind: 'merged'; sha: string; revalidated: boolean; durationMs: number }
  | { kind: 'failed'; reason: MergeFailureReason; message: string };

export interface MergeQueueInput {
  forge: Forge;
  workspace: Workspace;
  repoDir: string;
  baseBranch: string;
  /** Fanout's own worktree for updating branches; never the user's checkout. */
  worktreePath: string;
  approval: 'auto' | 'manual';
  items: readonly MergeItem[];
  /** Validates the worktree at `headSha` and publishes the check; true when green. */
  revalidate: (worktree: Worktree, headSha: string, prNumber: number) => Promise<boolean>;
  onResult?: (subtaskId: string, result: MergeItemResult) => Promise<void>;
}

/**
 * Merges approved, green pull requests in plan order, one at a time. Before each merge the branch
 * is brought up to date with the current base (in Fanout's own worktree) and validated again if
 * the base moved; the merge pins the exact validated head. A conflict or a red re-validation
 * fails that PR and the queue goes on; a PR whose dependency did not merge is not merged. A PR
 * counts as merged only while its merge commit is on the base, and is never merged twice.
 */
export async function mergeInOrder(input: MergeQueueInput): Promise<Map<string, MergeItemResult>> {
  const results = new Map<string, MergeItemResult>();
  const record = async (subtaskId: string, result: MergeItemResult) => {
    results.set(subtaskId, result);
    await input.onResult?.(subtaskId, result);
  };
  const baseHead = await input.workspace.resolveCommit(input.repoDir, input.baseBranch);
  const worktree = await input.workspace.createDetachedWorktree({ repoDir: input.repoDir, path: input.worktreePath, commit: baseHead });
  try {
    for (const item of input.items) {
      const started = Date.now();
      const blocker = item.dependsOn.find((id) => results.get(id)?.kind !== 'merged');
      if (blocker !== undefined) {
        await record(item.subtaskId, { kind: 'failed', reason: 'dependency-failed', message: `not merged because "${blocker}", which it depends on, did not merge` });
        continue;
      }
      const pr = await input.forge.getPullRequest(item.prNumber);
      if (pr.state === 'merged' && pr.mergedSha) {
        await record(item.subtaskId, await mergedIfOnBase(input, pr.mergedSha, { kind: 'merged', sha: pr.mergedSha, revalidated: false, durationMs: 0 }));
        continue;
      }
      if (pr.state === 'open' && (await input.workspace.isAncestor(input.repoDir, pr.headSha, await input.workspace.resolveCommit(input.repoDir, input.baseBranch)))) {
        // Merged by an earlier process whose record was lost: merging again would add a second merge.
        await record(item.subtaskId, { kind: 'merged', sha: pr.headSha, revalidated: false, durationMs: 0 });
        continue;
      }
      if (!item.validationPassed) {
        await record(item.subtaskId, { kind: 'failed', reason: 'validation-failed', message: 'validation failed on the pull request' });
        continue;
      }
      if (!pr.approved) {
        if (input.approval === 'manual') {
          await record(item.subtaskId, { kind: 'failed', reason: 'not-approved', message: 'waiting for an approving review (approval: manual)' });
          continue;
        }
        await input.forge.approve(item.prNumber, 'approval: auto and validation passed');
      }
      let head = pr.headSha;
      let revalidated = false;
      const base = await input.workspace.resolveCommit(input.repoDir, input.baseBranch);
      if (!(await input.workspace.isAncestor(input.repoDir, base, head))) {
        await input.workspace.checkoutDetached(worktree, head);
        const update = await input.workspace.mergeInto(worktree, base, `Merge ${input.baseBranch} into ${pr.branch}`);
        if (update.kind === 'conflict') {
          await record(item.subtaskId, { kind: 'failed', reason: 'conflict', message: `conflicts with ${input.baseBranch} in ${update.files.join(', ')}` });
          continue;
        }
        await input.forge.updateHead(item.prNumber, update.commit, head);
        head = update.commit;
        revalidated = true;
        if (!(await input.revalidate(worktree, head, item.prNumber))) {
          await record(item.subtaskId, { kind: 'failed', reason: 'revalidation-failed', message: `validation failed after updating the branch with ${input.baseBranch}` });
          continue;
        }
      }
      const merged = await input.forge.merge(item.prNumber, { expectedHeadSha: head, title: item.title });
      if (merged.kind === 'refused') {
        await record(item.subtaskId, { kind: 'failed', reason: 'merge-refused', message: merged.reason });
        continue;
      }
      await record(item.subtaskId, await mergedIfOnBase(input, merged.sha, { kind: 'merged', sha: merged.sha, revalidated, durationMs: Date.now() - started }));
    }
  } finally {
    await input.workspace.removeWorktree(worktree);
  }
  return results;
}

/** `merged` if its merge commit is on the base now; a report never calls work merged that is not. */
async function mergedIfOnBase(input: MergeQueueInput, sha: string, merged: MergeItemResult): Promise<MergeItemResult> {
  const base = await input.workspace.resolveCommit(input.repoDir, input.baseBranch);
  if (await input.workspace.isAncestor(input.repoDir, sha, base)) return merged;
  return { kind: 'failed', reason: 'not-on-base', message: `the merge ${sha.slice(0, 8)} is no longer on ${input.baseBranch} (was ${input.baseBranch} reset?)` };
}
