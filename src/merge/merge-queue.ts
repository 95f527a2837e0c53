import { ForgeError } from '../domain/errors.js';
import type { BaseUpdate, MergeFailureReason, MergeWaitReason } from '../domain/run.js';
import type { Forge, MergeMethod, PullRequestInfo } from '../ports/forge.js';
import type { Workspace, Worktree } from '../ports/workspace.js';
import { judgeReadiness } from './readiness.js';

export interface MergeItem {
  subtaskId: string;
  prNumber: number;
  title: string;
  dependsOn: readonly string[];
  /** Heads Fanout made earlier by updating the branch with its base (an approval of `from` stands for `to`). */
  baseUpdates?: readonly BaseUpdate[];
}

export type MergeItemResult =
  | { kind: 'merged'; sha: string; revalidated: boolean; durationMs: number; approvedBy: string }
  | { kind: 'failed'; reason: MergeFailureReason; message: string }
  | { kind: 'waiting'; reason: MergeWaitReason; message: string; retryAt?: string };

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
  /** Fanout's own check names (default: the validation check); every other check is the repository's CI. */
  ownChecks?: readonly string[];
  /** How long the repository's CI may take to appear on a head (where the forge has CI; 0: not waited for). */
  waitForChecksMs?: number;
  /** Fanout updated a branch with its base: recorded before anything else (approvals carry over it). */
  onBranchUpdated?: (subtaskId: string, update: BaseUpdate) => Promise<void>;
  /** Items still to merge, in plan order. */
  items: readonly MergeItem[];
  /** Subtasks merged earlier (their dependents may merge). */
  alreadyMerged: ReadonlySet<string>;
  /** Validates the worktree at `headSha` and publishes the check; true when green. */
  revalidate: (worktree: Worktree, headSha: string, prNumber: number) => Promise<boolean>;
  onResult?: (subtaskId: string, result: MergeItemResult) => Promise<void>;
  /** Called before every landing; throws to stop the queue (its exclusivity was lost). */
  beforeLanding?: () => Promise<void>;
  /**
   * A PR's checks are red: true when a fix attempt will follow, so the PR waits for it (in plan
   * order) instead of leaving the queue.
   */
  fixRed?: (subtaskId: string) => Promise<boolean>;
}

const RED: ReadonlySet<MergeFailureReason> = new Set(['checks-failed', 'validation-failed', 'revalidation-failed']);

/**
 * Merges ready pull requests in plan order. Before each merge the branch is brought up to date
 * with the base (in Fanout's own worktree) and validated again if the base moved; the merge pins
 * the exact head whose checks passed. When no update can be needed (a squash or rebase with
 * nothing to validate again), consecutive ready pull requests land as one series (`mergeSeries`:
 * locally one compare-and-swap of the base and one update of the checkout). A PR is ready when
 * every check on its head is green (Fanout's and the repository's own), no review requests
 * changes, the CI the repository requires has reported, and, under `approval: manual`, someone
 * approved that head (or one Fanout only updated with the base: see `judgeReadiness`). The queue
 * stops at the first PR still waiting (checks running, a review to come, a merge the forge held
 * back for a rule it did not show), so merges keep plan order; a failure
 * (conflict, red check, moved head) takes only that PR out, with a comment saying why. A PR counts
 * as merged only while its merge commit is on the base, and is never merged twice.
 */
export async function mergeInOrder(input: MergeQueueInput): Promise<Map<string, MergeItemResult>> {
  const results = new Map<string, MergeItemResult>();
  const merged = new Set(input.alreadyMerged);
  let worktree: Worktree | undefined;
  // Asked only when an update could follow (a squash without validation lands as it is).
  const mayUpdate = input.updateBeforeMerge || input.method === 'merge';
  let series: ReadyItem[] = [];
  const record = async (subtaskId: string, result: MergeItemResult) => {
    results.set(subtaskId, result);
    if (result.kind === 'merged') merged.add(subtaskId);
    await input.onResult?.(subtaskId, result);
  };
  const conclude = async (item: MergeItem, result: MergeItemResult, started: number) => {
    await record(item.subtaskId, result.kind === 'merged' ? { ...result, durationMs: Date.now() - started } : result);
    if (result.kind === 'failed' && result.reason !== 'closed')
      await input.forge.createComment(item.prNumber, takenOutComment(result.message, input.baseBranch));
  };
  // Lands the series; returns the first of it the forge held back for now (branch protection).
  const land = async (): Promise<MergeItem | undefined> => {
    const landing = series;
    series = [];
    if (landing.length === 0) return undefined;
    const outcomes = await landSeries(input, landing);
    for (const [index, ready] of landing.entries()) await conclude(ready.item, outcomes[index]!, ready.started);
    return landing.find((_, index) => outcomes[index]!.kind === 'waiting')?.item;
  };
  // Plan order: nothing behind a waiting PR merges before it.
  const holdBehind = async (waiting: MergeItem) => {
    const why = results.get(waiting.subtaskId);
    const message = why?.kind === 'waiting' ? why.message : 'waiting';
    for (const later of input.items.slice(input.items.indexOf(waiting) + 1)) {
      if (results.has(later.subtaskId)) continue;
      await record(later.subtaskId, {
        kind: 'waiting',
        reason: 'queued',
        message: `queued behind "${waiting.subtaskId}" (${message})`,
      });
    }
  };
  try {
    for (const item of input.items) {
      const started = Date.now();
      // Each merge that may update a branch must see the base the one before made; so must a
      // subtask whose dependency is still waiting to land.
      if (mayUpdate || item.dependsOn.some((id) => series.some((ready) => ready.item.subtaskId === id))) {
        const held = await land();
        if (held) {
          await holdBehind(held);
          break;
        }
      }
      const blocker = item.dependsOn.find((id) => !merged.has(id));
      const blockerFailed =
        blocker !== undefined &&
        (results.get(blocker)?.kind === 'failed' || !input.items.some((other) => other.subtaskId === blocker));
      if (blocker !== undefined && blockerFailed) {
        await conclude(
          item,
          {
            kind: 'failed',
            reason: 'dependency-failed',
            message: `not merged because "${blocker}", which it depends on, did not merge`,
          },
          started,
        );
        continue;
      }
      let result: MergeItemResult | ReadyItem =
        blocker !== undefined
          ? { kind: 'waiting', reason: 'queued', message: `waits for "${blocker}", which it depends on` }
          : await judgeOne(input, item, started, async () => (worktree ??= await mergeWorktree(input)));
      if (result.kind === 'ready') {
        series.push(result);
        const held = mayUpdate ? await land() : undefined;
        if (held) {
          await holdBehind(held);
          break;
        }
        continue;
      }
      if (result.kind === 'failed' && RED.has(result.reason) && (await input.fixRed?.(item.subtaskId))) {
        result = { kind: 'waiting', reason: 'fixing', message: `${result.message}; a fix attempt follows` };
      }
      if (result.kind === 'waiting') {
        // Plan order: what is ready before a waiting PR lands; nothing behind it merges before it.
        const held = await land();
        if (!held) await conclude(item, result, started);
        await holdBehind(held ?? item);
        break;
      }
      await conclude(item, result, started);
    }
    const held = await land();
    if (held) await holdBehind(held);
  } finally {
    if (worktree) await input.workspace.releaseWorktree(worktree);
  }
  return results;
}

/** A pull request whose checks and reviews allow it to merge at this head. */
interface ReadyItem {
  kind: 'ready';
  item: MergeItem;
  head: string;
  revalidated: boolean;
  approvedBy: string;
  started: number;
}

/**
 * Where a pull request stands: already merged (by a person, or an earlier process), closed,
 * updated with the base and validated again when it must be, then judged on its checks and
 * reviews; `ready` ones are merged by the caller.
 */
async function judgeOne(
  input: MergeQueueInput,
  item: MergeItem,
  started: number,
  worktree: () => Promise<Worktree>,
): Promise<MergeItemResult | ReadyItem> {
  const pr = await input.forge.getPullRequest(item.prNumber);
  if (pr.state === 'merged' && pr.mergedSha)
    return mergedIfOnBase(input, pr.mergedSha, merged(pr.mergedSha, false, 'a person, on the forge'));
  if (pr.state === 'closed')
    return { kind: 'failed', reason: 'closed', message: `pull request #${pr.number} was closed without merging` };
  const base = await input.forge.fetchBase(input.baseBranch);
  // Pushed from another machine (a worker with its own clone): fetched before git looks at it.
  const present = await input.workspace.resolveCommit(input.repoDir, pr.headSha).then(
    () => true,
    () => false,
  );
  if (!present) await input.forge.fetchBase(pr.branch);
  // Merged by an earlier process whose record was lost: merging again would add a second merge.
  if (await input.workspace.isAncestor(input.repoDir, pr.headSha, base))
    return merged(pr.headSha, false, 'an earlier merge');

  let head = pr.headSha;
  let revalidated = false;
  let baseUpdates = item.baseUpdates ?? [];
  const mayUpdate = input.updateBeforeMerge || input.method === 'merge';
  if (mayUpdate && !(await input.workspace.isAncestor(input.repoDir, base, head))) {
    const updated = await updateBranch(input, pr, base, await worktree());
    if (updated.kind !== 'updated') return updated;
    head = updated.head;
    revalidated = true;
    const update = { from: pr.headSha, to: head };
    await input.onBranchUpdated?.(item.subtaskId, update);
    baseUpdates = [...baseUpdates, update];
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
    head,
    baseUpdates,
    ...(input.ownChecks ? { ownChecks: input.ownChecks } : {}),
    waitForChecksMs: input.waitForChecksMs ?? 0,
    now: Date.now(),
  });
  if (verdict.kind !== 'ready') return verdict;
  const approvedBy = verdict.approvedBy ?? 'Fanout (approval: auto, every check green)';
  return { kind: 'ready', item, head, revalidated, approvedBy, started };
}

/**
 * Merges ready pull requests as one series, each pinned to the head judged ready. A series lands
 * in order, each merge on the one before: when the last one is on the base, so are the others.
 */
async function landSeries(input: MergeQueueInput, landing: readonly ReadyItem[]): Promise<MergeItemResult[]> {
  await input.beforeLanding?.();
  const outcomes = await input.forge.mergeSeries(
    landing.map((ready) => ({
      number: ready.item.prNumber,
      expectedHeadSha: ready.head,
      title: `${ready.item.title}\n\nApproved by ${ready.approvedBy}.`,
      method: input.method,
    })),
  );
  const last = [...outcomes].reverse().find((outcome) => outcome.kind === 'merged');
  const lastOnBase =
    last?.kind === 'merged' &&
    (await input.workspace.isAncestor(input.repoDir, last.sha, await input.forge.fetchBase(input.baseBranch)));
  return outcomes.map((outcome, index): MergeItemResult => {
    const ready = landing[index]!;
    if (outcome.kind === 'refused' && outcome.reason === 'blocked')
      return {
        kind: 'waiting',
        reason: 'merge-blocked',
        message: `${outcome.message.replace(/\.+$/, '')}; Fanout tries the merge again on the next event`,
      };
    if (outcome.kind === 'refused') {
      return {
        kind: 'failed',
        reason:
          outcome.reason === 'head-moved'
            ? 'head-moved'
            : outcome.reason === 'no-longer-on-base'
              ? 'not-on-base'
              : 'merge-refused',
        message: outcome.message,
      };
    }
    if (!lastOnBase)
      return {
        kind: 'failed',
        reason: 'not-on-base',
        message: `the merge ${outcome.sha.slice(0, 8)} is no longer on ${input.baseBranch} (was ${input.baseBranch} reset?)`,
      };
    return merged(outcome.sha, ready.revalidated, ready.approvedBy);
  });
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
