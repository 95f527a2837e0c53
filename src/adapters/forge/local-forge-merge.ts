import type { Failpoint } from '../../domain/failpoint.js';
import { FANOUT_AUTHOR } from '../../domain/identity.js';
import type { CheckConclusion, CheckOutput, MergeMethod, MergeResult, PullRequestInfo } from '../../ports/forge.js';
import { runGit } from '../workspace/git-cli.js';
import { branchCommit } from '../workspace/branch-refs.js';
import { identityEnv } from '../workspace/worktree-commit.js';
import {
  type CheckoutBlocker,
  checkoutBlocker,
  checkoutOf,
  indexAt,
  indexHolds,
  updateCheckout,
} from './local-checkout.js';

/** A merge begun: written before the base ref moves, so a later process can finish or undo it. */
export interface MergeIntent {
  /** The merge commit. */
  sha: string;
  /** The base before the merge (before the whole series, when it lands in one). */
  oldBase: string;
  /**
   * The base after the series this merge landed in (several pull requests, one compare-and-swap
   * and one checkout update); absent for a merge on its own, where it is `sha`.
   */
  tip?: string;
}

/** A check run on a local pull request's head. */
export interface LocalCheck {
  id: string;
  name: string;
  headSha: string;
  status: 'in_progress' | 'completed';
  conclusion?: CheckConclusion;
  output: CheckOutput;
}

/** An inline comment of a local review; `id` is unique within its pull request. */
export interface LocalReviewComment {
  id: number;
  path: string;
  line: number | null;
  body: string;
}

/** A local review (`fanout approve` is one); `id` is unique within its pull request. */
export interface LocalReview {
  id: number;
  by: string;
  state: 'approved' | 'changes_requested' | 'commented';
  headSha: string;
  at: string;
  body: string;
  comments: LocalReviewComment[];
}

/** A local pull request record; `merging` holds while a merge is under way or was interrupted. */
export interface LocalPullRequest extends Omit<PullRequestInfo, 'state'> {
  state: PullRequestInfo['state'] | 'merging';
  merging?: MergeIntent;
  runId: string;
  subtaskId: string;
  title: string;
  body: string;
  checks: LocalCheck[];
  reviews: LocalReview[];
  /** Who was asked to review (again), in the order first asked. */
  requestedReviewers: string[];
  labels: string[];
  createdAt: string;
}

export type MergingPullRequest = LocalPullRequest & { merging: MergeIntent };

export interface MergeContext {
  repoDir: string;
  save: (record: LocalPullRequest) => Promise<void>;
  failpoint: Failpoint;
}

const MAX_LISTED_PATHS = 10;

/** One pull request of a series, and how it should land. */
export interface SeriesRequest {
  record: LocalPullRequest;
  expectedHeadSha: string;
  title: string;
  method?: MergeMethod;
}

/**
 * Merges open pull requests of one base, in order, as one landing: each commit is built on the one
 * before (a PR that cannot land is refused and skipped), the user's checkout (if it has the base
 * checked out) is checked once, every intent recorded, the base moved with one compare-and-swap,
 * the checkout updated once, and each merge recorded. A failed checkout update swaps the base
 * back: the series either lands whole or changes nothing.
 */
export async function mergeOpenSeries(
  context: MergeContext,
  requests: readonly SeriesRequest[],
): Promise<MergeResult[]> {
  const { repoDir } = context;
  const results: MergeResult[] = [];
  const landing: Array<{ index: number; record: LocalPullRequest; head: string; sha: string }> = [];
  const baseName = requests[0]?.record.base ?? '';
  const baseRef = `refs/heads/${baseName}`;
  const base = await resolveCommit(repoDir, baseRef);
  let tip = base;
  for (const [index, request] of requests.entries()) {
    const { record } = request;
    const method = request.method ?? 'squash';
    if (record.base !== baseName) throw new Error('a merge series has one base');
    const head = await resolveCommit(repoDir, `refs/heads/${record.branch}`);
    if (head !== request.expectedHeadSha) {
      results.push({
        kind: 'refused',
        reason: 'head-moved',
        message: `the branch moved to ${head.slice(0, 8)} after ${request.expectedHeadSha.slice(0, 8)} was validated`,
      });
      continue;
    }
    const relation = await ancestry(repoDir, head, tip);
    if (relation === 'same' || relation === 'ancestor') {
      results.push({
        kind: 'refused',
        reason: 'not-mergeable',
        message: `the branch's head ${head.slice(0, 8)} is already on ${record.base}; nothing to merge`,
      });
      continue;
    }
    const upToDate = relation === 'descendant';
    if (method === 'merge' && !upToDate) {
      results.push({
        kind: 'refused',
        reason: 'not-up-to-date',
        message: `the branch is not up to date with ${record.base}`,
      });
      continue;
    }
    const tree = upToDate
      ? (await runGit(['rev-parse', `${head}^{tree}`], { cwd: repoDir })).stdout.trim()
      : await mergedTree(repoDir, tip, head);
    if (typeof tree !== 'string') {
      results.push({
        kind: 'refused',
        reason: 'not-mergeable',
        message: `conflicts with ${record.base} in ${tree.conflicts.join(', ')}`,
      });
      continue;
    }
    const sha = await landingCommit(repoDir, method, record, request.title, { tree, base: tip, head });
    landing.push({ index, record, head, sha });
    results.push({ kind: 'merged', sha });
    tip = sha;
  }
  if (landing.length === 0) return results;
  const refuseAll = (refusal: Extract<MergeResult, { kind: 'refused' }>) => {
    for (const { index } of landing) results[index] = refusal;
    return results;
  };

  // The checkout goes from the old base to the series' last commit: checked before anything moves.
  const checkout = await checkoutOf(repoDir, baseName);
  const blocker = checkout ? await checkoutBlocker(checkout, base, tip) : null;
  if (checkout && blocker)
    return refuseAll({
      kind: 'refused',
      reason: 'checkout-blocked',
      message: describeBlocker(landing[0]!.record, checkout, blocker),
    });

  const merging = landing.map(({ record, head, sha }): MergingPullRequest => ({
    ...record,
    headSha: head,
    state: 'merging',
    merging: { sha, oldBase: base, ...(sha === tip ? {} : { tip }) },
  }));
  for (const record of merging) await context.save(record);
  // Compare-and-swap: if anyone moved the base meanwhile, nothing is overwritten.
  const swapped = await runGit(['update-ref', baseRef, tip, base], { cwd: repoDir, allowExitCodes: [1, 128] });
  if (swapped.exitCode !== 0) {
    for (const record of merging) await context.save(withoutIntent(record, 'open'));
    return refuseAll({
      kind: 'refused',
      reason: 'not-up-to-date',
      message: `${baseName} moved while merging; try again`,
    });
  }
  context.failpoint('mid-merge');
  let refusal: string | null = null;
  for (const [position, record] of merging.entries()) {
    // The first completion updates the checkout (or swaps the base back); the others find it done.
    const completed = await completeMerge(context, record, context.failpoint, position === 0 ? checkout : null);
    refusal ??= completed.refusal;
    const index = landing[position]!.index;
    results[index] =
      completed.record.state === 'merged' && completed.record.mergedSha
        ? { kind: 'merged', sha: completed.record.mergedSha }
        : {
            kind: 'refused',
            reason: 'checkout-blocked',
            message: refusal ?? `the merge of #${record.number} was undone`,
          };
  }
  return results;
}

/**
 * Merges an open pull request (a series of one): the checkout checked, the intent recorded, the
 * base moved with a compare-and-swap, the checkout updated, the merge recorded.
 */
export async function mergeOpenPullRequest(
  context: MergeContext,
  record: LocalPullRequest,
  request: { expectedHeadSha: string; title: string; method?: MergeMethod },
): Promise<MergeResult> {
  const [result] = await mergeOpenSeries(context, [{ record, ...request }]);
  return result!;
}

/** The tree of `head` merged onto `base` without a worktree (git merge-tree), or the conflicting paths. */
async function mergedTree(repoDir: string, base: string, head: string): Promise<string | { conflicts: string[] }> {
  const result = await runGit(['merge-tree', '--write-tree', '--name-only', '--no-messages', '-z', base, head], {
    cwd: repoDir,
    allowExitCodes: [1],
  });
  const [tree = '', ...conflicts] = result.stdout.split('\0').filter(Boolean);
  return result.exitCode === 0 ? tree.trim() : { conflicts };
}

/**
 * The commit that lands on the base: one commit carrying the PR number (squash, the default, and
 * rebase, which keeps the agent's own message and author), or a merge commit (merge).
 */
async function landingCommit(
  repoDir: string,
  method: MergeMethod,
  record: LocalPullRequest,
  title: string,
  commit: { tree: string; base: string; head: string },
): Promise<string> {
  const [firstLine = '', ...rest] = title.split('\n');
  let message = `${firstLine} (#${record.number})\n\n${rest.join('\n').trim()}\n`;
  let env = identityEnv(FANOUT_AUTHOR);
  if (method === 'merge') message = `Merge pull request #${record.number} from ${record.branch}\n\n${title}\n`;
  if (method === 'rebase') {
    const { stdout } = await runGit(['log', '-1', '--format=%an%x00%ae%x00%aI%x00%B', commit.head], { cwd: repoDir });
    const [name = '', email = '', date = '', ...body] = stdout.split('\0');
    const [subject = '', ...lines] = body.join('\0').trim().split('\n');
    message = `${subject} (#${record.number})\n${lines.join('\n')}\n`;
    env = { ...env, GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email, GIT_AUTHOR_DATE: date };
  }
  const parents = method === 'merge' ? ['-p', commit.base, '-p', commit.head] : ['-p', commit.base];
  const { stdout } = await runGit(['commit-tree', commit.tree, ...parents, '-F', '-'], {
    cwd: repoDir,
    env,
    input: message,
  });
  return stdout.trim();
}

/**
 * The second half of a merge whose intent is recorded, decided from what git shows, so a later
 * process that finds the intent runs exactly what the first would have: if the base holds the
 * merge commit and the checkout's index the old tree, the checkout is updated, or the base
 * swapped back when it cannot be; then the record says merged if the merge commit is on the base,
 * and open otherwise (with the checkout taken back if the base went back without it). Idempotent.
 */
export async function completeMerge(
  context: MergeContext,
  record: MergingPullRequest,
  failpoint: Failpoint = () => undefined,
  // Where the base is checked out, when the caller has just looked (saves asking git again).
  knownCheckout?: string | null,
): Promise<{ record: LocalPullRequest; refusal: string | null }> {
  const { repoDir } = context;
  const intent = record.merging;
  // Where the base went: this merge's commit, or the last of the series it landed in.
  const tip = intent.tip ?? intent.sha;
  const baseRef = `refs/heads/${record.base}`;
  const checkout = knownCheckout === undefined ? await checkoutOf(repoDir, record.base) : knownCheckout;
  let refusal: string | null = null;
  // The index still at the old base (when both trees are equal, updating it changes nothing).
  if (checkout && (await resolveCommit(repoDir, baseRef)) === tip && (await indexHolds(checkout, intent.oldBase))) {
    refusal = await tryUpdateCheckout(record, checkout, intent.oldBase, tip);
    // Compare-and-swap back; it fails only if someone built on the merge meanwhile (then it stays).
    if (refusal !== null)
      await runGit(['update-ref', baseRef, intent.oldBase, tip], { cwd: repoDir, allowExitCodes: [1, 128] });
  }
  const base = await resolveCommit(repoDir, baseRef);
  // The tip descends from this merge's commit by construction: no need to ask git.
  if (base === tip || (await isAncestor(repoDir, intent.sha, base))) {
    failpoint('after-merge-before-record');
    const merged: LocalPullRequest = { ...withoutIntent(record, 'merged'), mergedSha: intent.sha };
    await context.save(merged);
    return { record: merged, refusal: null };
  }
  if (checkout && base === intent.oldBase && (await indexAt(checkout, intent.oldBase, tip)) === 'to') {
    // The base went back but the checkout did not: take it back too.
    await updateCheckout(checkout, tip, intent.oldBase);
  }
  const open = withoutIntent(record, 'open');
  await context.save(open);
  return { record: open, refusal };
}

/** Null when the checkout now holds `to`; otherwise why it could not (nothing was changed). */
async function tryUpdateCheckout(
  record: LocalPullRequest,
  checkout: string,
  from: string,
  to: string,
): Promise<string | null> {
  try {
    await updateCheckout(checkout, from, to);
    return null;
  } catch (error) {
    const blocker = await checkoutBlocker(checkout, from, to);
    return describeBlocker(
      record,
      checkout,
      blocker ?? { kind: 'git-refused', detail: error instanceof Error ? error.message : String(error) },
    );
  }
}

function describeBlocker(record: LocalPullRequest, checkout: string, blocker: CheckoutBlocker): string {
  const resume = `then \`fanout resume ${record.runId}\``;
  if (blocker.kind === 'local-changes')
    return `${record.base} is checked out in ${checkout} with uncommitted changes; commit or stash them, ${resume}`;
  if (blocker.kind === 'git-refused')
    return `git cannot update ${checkout}, where ${record.base} is checked out, to the merge: ${blocker.detail}`;
  const listed = blocker.paths.slice(0, MAX_LISTED_PATHS).join(', ');
  const more = blocker.paths.length > MAX_LISTED_PATHS ? ` and ${blocker.paths.length - MAX_LISTED_PATHS} more` : '';
  return `untracked or ignored files in ${checkout} would be overwritten or deleted by merging #${record.number}: ${listed}${more}; move or delete them, ${resume}`;
}

function withoutIntent(record: LocalPullRequest, state: 'open' | 'merged'): LocalPullRequest {
  const { merging: _intent, ...rest } = record;
  return { ...rest, state };
}

async function resolveCommit(repoDir: string, ref: string): Promise<string> {
  if (ref.startsWith('refs/heads/')) return branchCommit(repoDir, ref.slice('refs/heads/'.length));
  return (await runGit(['rev-parse', '--verify', `${ref}^{commit}`], { cwd: repoDir })).stdout.trim();
}

async function isAncestor(repoDir: string, ancestor: string, descendant: string): Promise<boolean> {
  if (ancestor === descendant) return true;
  const { exitCode } = await runGit(['merge-base', '--is-ancestor', ancestor, descendant], {
    cwd: repoDir,
    allowExitCodes: [1],
  });
  return exitCode === 0;
}

/** How commit `a` stands to `b` in history, from one merge-base (their best common ancestor). */
async function ancestry(
  repoDir: string,
  a: string,
  b: string,
): Promise<'same' | 'ancestor' | 'descendant' | 'diverged'> {
  if (a === b) return 'same';
  const { stdout, exitCode } = await runGit(['merge-base', a, b], { cwd: repoDir, allowExitCodes: [1] });
  const common = exitCode === 0 ? stdout.trim() : '';
  return common === a ? 'ancestor' : common === b ? 'descendant' : 'diverged';
}
