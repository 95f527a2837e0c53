import type { MergeResult } from '../../../ports/forge.js';
import { type PullRequestData, type RepositoryName, isMerged } from './pull-requests.js';
import type { GitHubOctokit } from './token-source.js';
import { forgeError, httpFailure, mayHaveHappened } from './wrap-error.js';

export type MergeMethod = 'merge' | 'squash' | 'rebase';

/** The preferred method if the repository allows it, else the first it allows (absent flags: allowed). */
export function chooseMergeMethod(
  preferred: MergeMethod,
  allowed: { allow_merge_commit?: boolean; allow_squash_merge?: boolean; allow_rebase_merge?: boolean },
): MergeMethod {
  const allows: Record<MergeMethod, boolean> = {
    merge: allowed.allow_merge_commit !== false,
    squash: allowed.allow_squash_merge !== false,
    rebase: allowed.allow_rebase_merge !== false,
  };
  if (allows[preferred]) return preferred;
  return (['merge', 'squash', 'rebase'] as const).find((method) => allows[method]) ?? preferred;
}

async function readPull(octokit: GitHubOctokit, name: RepositoryName, number: number): Promise<PullRequestData> {
  try {
    return (await octokit.rest.pulls.get({ ...name, pull_number: number })).data;
  } catch (error) {
    throw forgeError(`get pull request #${number}`, error, { notFound: 'pr-not-found' });
  }
}

/** What an already merged or closed PR means for a merge of `expectedHeadSha`; null while open. */
function settled(data: PullRequestData, expectedHeadSha: string): MergeResult | null {
  if (isMerged(data) && data.merge_commit_sha && data.head.sha === expectedHeadSha)
    return { kind: 'merged', sha: data.merge_commit_sha };
  if (isMerged(data))
    return {
      kind: 'refused',
      reason: 'not-open',
      message: `pull request #${data.number} was merged at ${data.head.sha.slice(0, 8)}, not at ${expectedHeadSha.slice(0, 8)}`,
    };
  if (data.state === 'closed')
    return { kind: 'refused', reason: 'not-open', message: `pull request #${data.number} is closed` };
  return null;
}

/**
 * Merges a PR with its head pinned (`sha`): 409 (the head moved) and 405 (GitHub will not merge
 * it: `not-mergeable` for a conflict, `blocked` for a rule such as branch protection) are
 * refusals. The merge is never retried blindly; after a 405 or a 5xx the PR is read again,
 * since the merge may have happened (by this call or a person).
 */
export async function mergePullRequest(
  octokit: GitHubOctokit,
  name: RepositoryName,
  number: number,
  request: { expectedHeadSha: string; title: string; method: MergeMethod },
): Promise<MergeResult> {
  const before = settled(await readPull(octokit, name, number), request.expectedHeadSha);
  if (before) return before;
  const [firstLine = '', ...rest] = request.title.split('\n');
  try {
    const { data } = await octokit.rest.pulls.merge({
      ...name,
      pull_number: number,
      sha: request.expectedHeadSha,
      merge_method: request.method,
      commit_title: `${firstLine} (#${number})`,
      commit_message: rest.join('\n').trim(),
      request: { retries: 0 },
    });
    return { kind: 'merged', sha: data.sha };
  } catch (error) {
    const failure = httpFailure(error);
    if (failure?.status === 409)
      return { kind: 'refused', reason: 'head-moved', message: `GitHub: ${failure.message}` };
    if (failure?.status !== 405 && !mayHaveHappened(error))
      throw forgeError(`merge pull request #${number}`, error, { notFound: 'pr-not-found' });
    const pull = await readPull(octokit, name, number);
    const after = settled(pull, request.expectedHeadSha);
    if (after) return after;
    // A conflict is final; anything else GitHub refuses (a protection rule Fanout could not read,
    // the base moving, a state GitHub has not computed yet) may pass on the next try.
    if (failure?.status === 405)
      return {
        kind: 'refused',
        reason: pull.mergeable === false || pull.mergeable_state === 'dirty' ? 'not-mergeable' : 'blocked',
        message: `GitHub: ${failure.message}`,
      };
    throw forgeError(`merge pull request #${number}`, error);
  }
}
