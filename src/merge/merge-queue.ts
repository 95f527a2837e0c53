import { ForgeError } from '../domain/errors.js';
import type { MergeFailureReason, MergeWaitReason } from '../domain/run.js';
import type { Forge, MergeMethod, PullRequestInfo } from '../ports/forge.js';
import type { Workspace, Worktree } from '../ports/workspace.js';
import { judgeReadiness } from './readiness.js';

export interface MergeItem {
  subtaskId: string;
  prNumber: number;
  title: string;
  dependsOn: readonly string[];
}

export type MergeItemResult =
  | { kind: 'merged'; sha: string; revalidated: boolean; durationMs: number; approvedBy: string }
  | { kind: 'failed'; reason: MergeFailureReason; message: string }
  | { kind: 'waiting'; reason: MergeWaitReason; message: string };

export interface MergeQueueInput {
  forge: Forge;
  workspace: Workspace;
  repoDir: string;
  baseBranch: string;
  /** Where Fanout's own worktrees for updating branches come from (a pool; never the user's checkout). */
  poolRoot: string;
  approval: 'auto' | 'manual';
  method: MergeMethod;
  /**
   * Bring a PR behind its base up to date (and validate it again) before merging. Without
   * validation to run, a squash or rebase needs no update: the forge merges the trees itself.
   */
  updateBeforeMerge: boolean;
  /** Name of Fanout's own validation check, which must be green on the head. */
  validationCheck: string;
  /** Items still to merge, in plan order. */
  items: readonly MergeItem[];
  /** Subtasks merged earlier (their dependents may merge). */
  alreadyMerged: ReadonlySet<string>;
  /** Validates the worktree at `headSha` and publishes the check; true when green. */
  revalidate: (worktree: Worktree, headSha: string, prNumber: number) => Promise<boolean>;
  onResult?: (subtaskId: string, result: MergeItemResult) => Promise<void>;
  /**
   * A PR's checks are red: true when a fix attempt will follow, so the PR waits for it (in plan
   * order) instead of leaving the queue.
   */
  fixRed?: (subtaskId: string) => Promise<boolean>;
}

const RED: ReadonlySet<MergeFailureReason> = new Set(['checks-failed', 'validation-failed', 'revalidation-failed']);

/**
 * Merges ready pull requests in plan order, one at a time. Before each merge the branch is brought
 * up to date with the base (in Fanout's own worktree) and validated again if the base moved; the
 * merge pins the exact head whose checks passed. A PR is ready when every check on its head is
 * green (Fanout's and the repository's own), no review requests changes, and, under `approval:
 * manual`, someone approved it. The queue stops at the first PR still waiting (checks running, a
 * review to come), so merges keep plan order; a failure (conflict, red check, moved head) takes
 * only that PR out, with a comment saying why. A PR counts as merged only while its merge commit
 * is on the base, and is never merged twice.
 */
export async function mergeInOrder(input: MergeQueueInput): Promise<Map<string, MergeItemResult>> {
  const results = new Map<string, MergeItemResult>();
  const merged = new Set(input.alreadyMerged);
  let worktree: Worktree | undefined;
  const record = async (subtaskId: string, result: MergeItemResult) => {
    results.set(subtaskId, result);
    if (result.kind === 'merged') merged.add(subtaskId);
    await input.onResult?.(subtaskId, result);
  };
  try {
    for (const item of input.items) {
      const started = Date.now();
      const blocker = item.dependsOn.find((id) => !merged.has(id));
      const blockerFailed =
        blocker !== undefined &&
        (results.get(blocker)?.kind === 'failed' || !input.items.some((other) => other.subtaskId === blocker));
      if (blocker !== undefined && blockerFailed) {
        await record(item.subtaskId, {
          kind: 'failed',
          reason: 'dependency-failed',
          message: `not merged because "${blocker}", which it depends on, did not merge`,
        });
        continue;
      }
      let result: MergeItemResult =
        blocker !== undefined
          ? { kind: 'waiting', reason: 'queued', message: `waits for "${blocker}", which it depends on` }
          : await mergeOne(input, item, async () => (worktree ??= await mergeWorktree(input)));
      if (result.kind === 'failed' && RED.has(result.reason) && (await input.fixRed?.(item.subtaskId))) {
        result = { kind: 'waiting', reason: 'fixing', message: `${result.message}; a fix attempt follows` };
      }
      await record(item.subtaskId, result.kind === 'merged' ? { ...result, durationMs: Date.now() - started } : result);
      if (result.kind === 'failed' && result.reason !== 'closed')
        await input.forge.createComment(item.prNumber, takenOutComment(result.message, input.baseBranch));
      if (result.kind === 'waiting') {
        // Plan order: nothing behind a waiting PR merges before it.
        for (const later of input.items.slice(input.items.indexOf(item) + 1)) {
          await record(later.subtaskId, {
            kind: 'waiting',
            reason: 'queued',
            message: `queued behind "${item.subtaskId}" (${result.message})`,
          });
        }
        break;
      }
    }
  } finally {
    if (worktree) await input.workspace.releaseWorktree(worktree);
  }
  return results;
}

async function mergeOne(
  input: MergeQueueInput,
  item: MergeItem,
  worktree: () => Promise<Worktree>,
): Promise<MergeItemResult> {
  const pr = await input.forge.getPullRequest(item.prNumber);
  if (pr.state === 'merged' && pr.mergedSha)
    return mergedIfOnBase(input, pr.mergedSha, merged(pr.mergedSha, false, 'a person, on the forge'));
  if (pr.state === 'closed')
    return { kind: 'failed', reason: 'closed', message: `pull request #${pr.number} was closed without merging` };
  const base = await input.forge.fetchBase(input.baseBranch);
  // Merged by an earlier process whose record was lost: merging again would add a second merge.
  if (await input.workspace.isAncestor(input.repoDir, pr.headSha, base))
    return merged(pr.headSha, false, 'an earlier merge');

  let head = pr.headSha;
  let revalidated = false;
  // Asked only when an update could follow (a squash without validation lands as it is).
  const mayUpdate = input.updateBeforeMerge || input.method === 'merge';
  if (mayUpdate && !(await input.workspace.isAncestor(input.repoDir, base, head))) {
    const updated = await updateBranch(input, pr, base, await worktree());
    if (updated.kind !== 'updated') return updated;
    head = updated.head;
    revalidated = true;
    if (!(await input.revalidate(updated.worktree, head, pr.number))) {
      return {
        kind: 'failed',
        reason: 'revalidation-failed',
        message: `validation failed after updating the branch with ${input.baseBranch}`,
      };
    }
  }

  const verdict = judgeReadiness(await input.forge.readiness(pr.number), {
    approval: input.approval,
    validationCheck: input.validationCheck,
  });
  if (verdict.kind !== 'ready') return verdict;
  const approvedBy = verdict.approvedBy ?? 'Fanout (approval: auto, every check green)';
  const result = await input.forge.merge(pr.number, {
    expectedHeadSha: head,
    title: `${item.title}\n\nApproved by ${approvedBy}.`,
    method: input.method,
  });
  if (result.kind === 'refused') {
    return {
      kind: 'failed',
      reason:
        result.reason === 'head-moved'
          ? 'head-moved'
          : result.reason === 'no-longer-on-base'
            ? 'not-on-base'
            : 'merge-refused',
      message: result.message,
    };
  }
  return mergedIfOnBase(input, result.sha, merged(result.sha, revalidated, approvedBy));
}

type BranchUpdate =
  { kind: 'updated'; head: string; worktree: Worktree } | Extract<MergeItemResult, { kind: 'failed' }>;

/** Merges the base into the PR's branch in Fanout's worktree and pushes it (compare-and-swap on the head). */
async function updateBranch(
  input: MergeQueueInput,
  pr: PullRequestInfo,
  base: string,
  worktree: Worktree,
): Promise<BranchUpdate> {
  await input.workspace.checkoutDetached(worktree, pr.headSha);
  const update = await input.workspace.mergeInto(worktree, base, `Merge ${input.baseBranch} into ${pr.branch}`);
  if (update.kind === 'conflict')
    return {
      kind: 'failed',
      reason: 'conflict',
      message: `conflicts with ${input.baseBranch} in ${update.files.join(', ')}`,
    };
  try {
    await input.forge.pushBranch(pr.branch, update.commit, pr.headSha);
  } catch (error) {
    if (error instanceof ForgeError && error.code === 'branch-moved') {
      return {
        kind: 'failed',
        reason: 'head-moved',
        message: `someone pushed to ${pr.branch} while Fanout was updating it with ${input.baseBranch}`,
      };
    }
    throw error;
  }
  return { kind: 'updated', head: update.commit, worktree };
}

async function mergeWorktree(input: MergeQueueInput): Promise<Worktree> {
  const base = await input.forge.fetchBase(input.baseBranch);
  return input.workspace.acquireWorktree({
    repoDir: input.repoDir,
    poolRoot: input.poolRoot,
    branch: null,
    commit: base,
  });
}

function merged(sha: string, revalidated: boolean, approvedBy: string): Extract<MergeItemResult, { kind: 'merged' }> {
  return { kind: 'merged', sha, revalidated, durationMs: 0, approvedBy };
}

/** `merged` if its merge commit is on the base now; a report never calls work merged that is not. */
async function mergedIfOnBase(input: MergeQueueInput, sha: string, result: MergeItemResult): Promise<MergeItemResult> {
  const base = await input.forge.fetchBase(input.baseBranch);
  if (await input.workspace.isAncestor(input.repoDir, sha, base)) return result;
  return {
    kind: 'failed',
    reason: 'not-on-base',
    message: `the merge ${sha.slice(0, 8)} is no longer on ${input.baseBranch} (was ${input.baseBranch} reset?)`,
  };
}

function takenOutComment(message: string, base: string): string {
  return `Fanout took this pull request out of its merge queue: ${message.replace(/\.+$/, '')}.\n\nFanout will not merge it into ${base}: fix and merge it yourself, or retry the subtask from the run.`;
}
